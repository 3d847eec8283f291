"""AWS rules for the EKS control plane: secrets encryption, endpoint access, logs, version, auth."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from .. import Config, Props, Rule, dig, is_open_cidr, items, resource_rule, truthy, value_rule

CLUSTER = "aws:eks/cluster:Cluster"
LOG_TYPES = ["api", "audit", "authenticator", "controllerManager", "scheduler"]


@resource_rule(
    "aws-eks-secrets-encrypted",
    types=[CLUSTER],
    description="EKS envelope-encrypts Kubernetes secrets with a customer-managed KMS key.",
    severity="high",
    frameworks=("CKV_AWS_58",),
    remediation='Set encryptionConfig with resources ["secrets"] and provider.keyArn on the '
    "cluster; llmplane's EKS adapter always sets it to the stack's key.",
)
def eks_secrets_encrypted(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Without a key of its own, etcd holds secrets under AWS's key, outside the stack's control."""
    encryption = dig(props, "encryptionConfig")
    # The current provider takes one object; older ones a list of them.
    configs = [encryption] if isinstance(encryption, Mapping) else items(encryption)
    for entry in configs:
        if "secrets" in items(dig(entry, "resources")) and dig(entry, "provider.keyArn"):
            return
    if not configs:
        yield "encryptionConfig is not set: secrets are not encrypted with a KMS key"
    else:
        yield "encryptionConfig does not cover resource 'secrets' with a provider.keyArn"


@resource_rule(
    "aws-eks-public-endpoint-restricted",
    types=[CLUSTER],
    description="A public EKS API endpoint accepts only listed networks, never 0.0.0.0/0 or ::/0.",
    severity="critical",
    frameworks=("CKV_AWS_38",),
    remediation="Set llmplane:cluster.privateEndpoint to true, or list your networks in "
    "llmplane:cluster.authorizedCidrs (vpcConfig.publicAccessCidrs) without 0.0.0.0/0.",
)
def eks_public_endpoint_restricted(type_: str, props: Props, config: Config) -> Iterator[str]:
    """An API server open to the internet is one leaked or guessed credential from takeover."""
    # EKS defaults: a public endpoint, open to 0.0.0.0/0 when publicAccessCidrs is absent.
    if dig(props, "vpcConfig.endpointPublicAccess", True) is False:
        return
    cidrs = items(dig(props, "vpcConfig.publicAccessCidrs"))
    if not cidrs:
        yield "the endpoint is public and publicAccessCidrs is not set: EKS opens it to 0.0.0.0/0"
    for cidr in cidrs:
        if is_open_cidr(cidr):
            yield f"publicAccessCidrs includes {cidr}"


@resource_rule(
    "aws-eks-endpoint-private",
    types=[CLUSTER],
    description="The EKS API endpoint is private only. Advisory: a dev stack may reach it publicly "
    "from listed networks, which aws-eks-public-endpoint-restricted enforces.",
    severity="medium",
    frameworks=("CKV_AWS_39",),
    remediation="Set llmplane:cluster.privateEndpoint to true and run Pulumi from inside the VPC "
    "(a VPN, a bastion or a CI runner there).",
    enforcement="advisory",
)
def eks_endpoint_private(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A private endpoint takes the API server off the internet altogether."""
    # EKS defaults: endpointPublicAccess true, endpointPrivateAccess false.
    if dig(props, "vpcConfig.endpointPublicAccess", True) is not False:
        cidrs = ", ".join(items(dig(props, "vpcConfig.publicAccessCidrs"))) or "0.0.0.0/0"
        yield f"endpointPublicAccess is true: the API server is reachable from {cidrs}"
    if not truthy(dig(props, "vpcConfig.endpointPrivateAccess")):
        yield "endpointPrivateAccess is off: nodes reach the API server through the internet"


@resource_rule(
    "aws-eks-control-plane-logging",
    types=[CLUSTER],
    description="EKS sends every control-plane log type to CloudWatch.",
    severity="medium",
    frameworks=("CKV_AWS_37",),
    remediation="Set enabledClusterLogTypes to api, audit, authenticator, controllerManager and "
    "scheduler; llmplane's EKS adapter enables all five.",
    config={
        "logTypes": {
            "type": "array",
            "items": {"type": "string"},
            "default": LOG_TYPES,
            "description": "control-plane log types that must be enabled",
        }
    },
)
def eks_control_plane_logging(type_: str, props: Props, config: Config) -> Iterator[str]:
    """The audit and authenticator logs are the only record of who did what to the cluster."""
    enabled = set(items(dig(props, "enabledClusterLogTypes")))  # absent: no logs at all
    missing = [kind for kind in config["logTypes"] if kind not in enabled]
    if missing:
        yield f"enabledClusterLogTypes lacks {', '.join(missing)}"


@resource_rule(
    "aws-eks-supported-version",
    types=[CLUSTER],
    description="The EKS cluster runs a Kubernetes minor version still in standard support.",
    severity="medium",
    frameworks=("CKV_AWS_339",),
    remediation="Set llmplane:cluster.kubernetesVersion to a supported minor version (see the AWS "
    "EKS Kubernetes version calendar), and raise this policy's minimumVersion as versions age out.",
    config={
        "minimumVersion": {
            "type": "string",
            "default": "1.35",
            "description": "oldest minor version in EKS standard support (1.34 ends 2026-12-02)",
        }
    },
)
def eks_supported_version(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Past standard support a cluster gets no patches, or costs extended-support fees."""
    version = dig(props, "version")
    if version is None:
        return  # absent: EKS creates the newest version
    if _minor(str(version)) < _minor(config["minimumVersion"]):
        yield f"version {version} is older than {config['minimumVersion']}"


# Access entries are IAM-audited API objects; the aws-auth ConfigMap is neither.
eks_api_authentication_mode = value_rule(
    "aws-eks-api-authentication-mode",
    types=[CLUSTER],
    path="accessConfig.authenticationMode",
    allowed=["API", "API_AND_CONFIG_MAP"],
    default="CONFIG_MAP",  # absent: EKS's default
    message="accessConfig.authenticationMode is {value}",
    description="EKS authenticates through access entries (mode API or API_AND_CONFIG_MAP).",
    severity="medium",
    frameworks=("LLMPLANE-AWS-1",),
    remediation="Set accessConfig.authenticationMode to API (llmplane's EKS adapter does) and "
    "grant admins with llmplane:cluster.adminArns.",
)


def _minor(version: str) -> tuple[int, ...]:
    """A "1.35" or "1.35.2" version as comparable numbers; the patch is ignored."""
    parts = version.strip().lstrip("v").split(".")[:2]
    return tuple(int(p) if p.isdigit() else 0 for p in parts)


RULES: tuple[Rule, ...] = (
    eks_secrets_encrypted,
    eks_public_endpoint_restricted,
    eks_endpoint_private,
    eks_control_plane_logging,
    eks_supported_version,
    eks_api_authentication_mode,
)
