"""AWS rules for KMS keys: automatic rotation, and a key policy that is not open to all."""

from __future__ import annotations

from collections.abc import Iterator

from .. import Config, Props, Rule, dig, resource_rule, truthy
from .documents import grants_everyone, statements

KMS_KEY = "aws:kms/key:Key"
# Key specs AWS can rotate automatically: only symmetric encryption keys.
ROTATABLE_KEY_SPECS = ("SYMMETRIC_DEFAULT",)


@resource_rule(
    "aws-kms-key-rotation",
    types=[KMS_KEY],
    description="Symmetric customer-managed KMS keys rotate automatically.",
    severity="medium",
    frameworks=("CKV_AWS_7",),
    remediation="Set enableKeyRotation to true, as llmplane's stack key does.",
)
def kms_key_rotation(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Rotation bounds how much data one leaked key version exposes."""
    spec = dig(props, "customerMasterKeySpec") or dig(props, "keySpec") or "SYMMETRIC_DEFAULT"
    if spec not in ROTATABLE_KEY_SPECS:
        return  # asymmetric and HMAC keys cannot rotate automatically
    if not truthy(dig(props, "enableKeyRotation")):  # absent: rotation off
        yield "enableKeyRotation is not true"


@resource_rule(
    "aws-kms-key-policy-safe",
    types=[KMS_KEY],
    description="KMS key policies keep the lockout safety check and grant nothing to the "
    "wildcard principal.",
    severity="critical",
    frameworks=("CKV_AWS_33",),
    remediation="Remove bypassPolicyLockoutSafetyCheck, and name the principals in each Allow "
    "statement of the key policy (or constrain a wildcard with a Condition).",
)
def kms_key_policy_safe(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A wildcard principal opens the key to every AWS account; a bypass can orphan the key."""
    if truthy(dig(props, "bypassPolicyLockoutSafetyCheck")):
        yield "bypassPolicyLockoutSafetyCheck is true"
    for label, statement in statements(props, "policy"):
        if grants_everyone(statement):
            yield f"{label} allows Principal * without a Condition"


RULES: tuple[Rule, ...] = (
    kms_key_rotation,
    kms_key_policy_safe,
)
