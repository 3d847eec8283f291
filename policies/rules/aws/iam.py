"""AWS rules for IAM policy documents: no wildcard actions, unscoped writes or escalation."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from fnmatch import fnmatchcase

from .. import Config, Props, Rule, dig, items, resource_rule
from .documents import allows, statements, strings

ROLE = "aws:iam/role:Role"
# Identity policies: a standalone document in `policy`, or a role's inline ones.
IAM_POLICIES = (
    "aws:iam/policy:Policy",
    "aws:iam/rolePolicy:RolePolicy",
    "aws:iam/userPolicy:UserPolicy",
    "aws:iam/groupPolicy:GroupPolicy",
    ROLE,
)
# Verbs that only read metadata. Checked on the action name, so `ec2:Describe*` counts as one.
READ_VERBS = ("Describe", "Get", "List", "BatchGet", "Head", "View", "Search", "Lookup")
# Reads that hand out data, secrets or credentials: on a wildcard resource they are exfiltration
# (CKV_AWS_288, CKV_AWS_287).
SENSITIVE_READS = (
    "s3:GetObject",
    "secretsmanager:GetSecretValue",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "sts:GetFederationToken",
)
# Actions that let a principal grant itself more than it has (the cloudsplaining list
# CKV_AWS_286 uses): new policy versions, attached or inline policies, credentials for other
# users, trust policy edits, and roles passed to compute it controls.
ESCALATION_ACTIONS = (
    "iam:AddUserToGroup",
    "iam:AttachGroupPolicy",
    "iam:AttachRolePolicy",
    "iam:AttachUserPolicy",
    "iam:CreateAccessKey",
    "iam:CreateLoginProfile",
    "iam:CreatePolicyVersion",
    "iam:PassRole",
    "iam:PutGroupPolicy",
    "iam:PutRolePolicy",
    "iam:PutUserPolicy",
    "iam:SetDefaultPolicyVersion",
    "iam:UpdateAssumeRolePolicy",
    "iam:UpdateLoginProfile",
    "lambda:UpdateFunctionCode",
)


@resource_rule(
    "aws-iam-no-wildcard-actions",
    types=IAM_POLICIES,
    description='IAM policies never allow every action ("*") or every action but some (NotAction).',
    severity="critical",
    frameworks=("CKV_AWS_62", "CKV_AWS_63"),
    remediation="List the actions the principal needs; AWS managed policies such as "
    "AmazonEKSWorkerNodePolicy cover the usual EKS roles.",
)
def iam_no_wildcard_actions(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Action "*" is account administrator, whatever the resource."""
    for label, statement in _iam_statements(type_, props):
        if not allows(statement):
            continue
        if "NotAction" in statement:
            yield f"{label} allows NotAction: every action but those listed"
        wild = [a for a in strings(statement.get("Action")) if a in ("*", "*:*")]
        if wild:
            yield f"{label} allows Action {wild[0]}"


@resource_rule(
    "aws-iam-no-unscoped-write",
    types=IAM_POLICIES,
    description="IAM policies allow writes, and reads of data or secrets, only on named resources "
    "or under a Condition.",
    severity="high",
    frameworks=("CKV_AWS_290", "CKV_AWS_355", "CKV_AWS_288", "CKV_AWS_289"),
    remediation="Scope Resource to ARNs of the stack's own resources, or add a Condition (for "
    "example on aws:ResourceTag) where the action cannot be scoped by ARN.",
)
def iam_no_unscoped_write(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Describe and List on "*" are harmless and often unavoidable; a write on "*" is not."""
    for label, statement in _iam_statements(type_, props):
        # A Condition is how AWS scopes actions that take no resource ARN (tags, services).
        if not allows(statement) or "Condition" in statement or not _any_resource(statement):
            continue
        risky = [a for a in strings(statement.get("Action")) if not _read_only(a)]
        if risky:
            yield f"{label} allows {', '.join(risky)} on every resource (Resource *)"


@resource_rule(
    "aws-iam-no-privilege-escalation",
    types=IAM_POLICIES,
    description="IAM policies allow no privilege-escalation action (iam:PassRole, "
    "iam:CreatePolicyVersion, iam:Put*Policy, ...) on a wildcard resource.",
    severity="critical",
    frameworks=("CKV_AWS_286", "CKV_AWS_287"),
    remediation="Name the exact role ARNs in Resource for iam:PassRole, and drop IAM write "
    "actions from workload roles: llmplane's IRSA roles need none.",
)
def iam_no_privilege_escalation(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Each of these lets the holder give itself any permission, whatever else it is denied."""
    for label, statement in _iam_statements(type_, props):
        # Conditions do not help here: iam:PassRole limited to one service still passes any role.
        if not allows(statement) or not _broad_resource(statement):
            continue
        granted = sorted(
            {
                escalation
                for pattern in strings(statement.get("Action"))
                for escalation in ESCALATION_ACTIONS
                if fnmatchcase(escalation.lower(), pattern.lower())
            }
        )
        if granted:
            yield f"{label} allows {', '.join(granted)} on a wildcard resource"


def _iam_statements(type_: str, props: Props) -> Iterator[tuple[str, Mapping]]:
    """Statements of an identity policy, or of each of a role's inline policies."""
    if type_ != ROLE:
        yield from statements(props, "policy")
        return
    # A role's assumeRolePolicy is a trust policy, checked elsewhere; only inline ones grant.
    for policy in items(dig(props, "inlinePolicies")):
        yield from statements(policy, "policy", f"inline policy {dig(policy, 'name', '?')}: ")


def _any_resource(statement: Mapping) -> bool:
    """Resource "*", or NotResource: every resource but those listed."""
    return "NotResource" in statement or "*" in strings(statement.get("Resource"))


def _broad_resource(statement: Mapping) -> bool:
    """Every resource, or every one of a kind: a last ARN segment of just "*" (role/*)."""
    if _any_resource(statement):
        return True
    return any(r.endswith(("/*", ":*")) for r in strings(statement.get("Resource")))


def _read_only(action: str) -> bool:
    """A metadata read such as ec2:Describe*; not a write, nor a read that returns data."""
    if any(fnmatchcase(sensitive.lower(), action.lower()) for sensitive in SENSITIVE_READS):
        return False
    _, _, name = action.partition(":")
    return any(name.startswith(verb) for verb in READ_VERBS)


RULES: tuple[Rule, ...] = (
    iam_no_wildcard_actions,
    iam_no_unscoped_write,
    iam_no_privilege_escalation,
)
