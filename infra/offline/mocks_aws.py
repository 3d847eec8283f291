"""AWS answers for the offline mocks: ARNs, EC2-style ids and the fields EKS and ECR compute."""

from __future__ import annotations

import hashlib
from typing import Any

import pulumi

# A fixed, obviously fake account so mocked ARNs look real but can never be mistaken for one.
AWS_ACCOUNT = "123456789012"
# base64 of a PEM header only: enough for code that splices it into a kubeconfig, useless as a CA.
FAKE_CA = "LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCg=="

# EC2 resources get ids in EC2's own style (vpc-0a1b..., subnet-...).
_EC2_PREFIXES = {
    "ec2/vpc": "vpc",
    "ec2/subnet": "subnet",
    "ec2/securityGroup": "sg",
    "ec2/defaultSecurityGroup": "sg",
    "ec2/internetGateway": "igw",
    "ec2/natGateway": "nat",
    "ec2/eip": "eipalloc",
    "ec2/routeTable": "rtb",
    "ec2/launchTemplate": "lt",
    "ec2/vpcEndpoint": "vpce",
}
_IAM_KINDS = {"role": "role", "policy": "policy", "user": "user"}
# pulumi-aws auto-names the `name` input of every resource that has one (provider/autonaming.go:
# tfbridge.AutoName("name", 255, "-"), i.e. "<logical name>-<7 hex>"); these resources carry their
# name in another input, auto-named the same way (provider/resources.go).
_AUTO_NAMED_FIELDS = {
    "eks/nodeGroup": "nodeGroupName",
    "eks/fargateProfile": "fargateProfileName",
    "cloudwatch/metricAlarm": "name",
}


def digest(*parts: str) -> str:
    """A short stable hex digest: mocked ids must be the same on every run."""
    return hashlib.sha256("/".join(parts).encode()).hexdigest()[:16]


def region() -> str:
    """The stack's aws:region (set in the mocked config), for region-scoped ARNs and hosts."""
    return pulumi.Config("aws").get("region") or "us-east-1"


def auto_name_field(type_: str, sdk_inputs: frozenset[str]) -> tuple[str, str] | None:
    """The input pulumi-aws fills with an auto-name when the program leaves it out, if any."""
    field = _AUTO_NAMED_FIELDS.get(type_.split(":")[1])
    if field is None and "name" in sdk_inputs:
        field = "name"
    return (field, "bridge") if field is not None else None


def resource(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    """ARN and id for any AWS resource, plus the computed fields of the few that need them."""
    module_kind = type_.split(":")[1]
    module, _, kind = module_kind.partition("/")
    own_name = str(inputs.get("name") or name)
    state: dict[str, Any] = {}
    if module == "iam":
        state["arn"] = f"arn:aws:iam::{AWS_ACCOUNT}:{_IAM_KINDS.get(kind, kind)}/{own_name}"
    else:
        state["arn"] = f"arn:aws:{module}:{region()}:{AWS_ACCOUNT}:{kind.lower()}/{own_name}"
    prefix = _EC2_PREFIXES.get(module_kind)
    if prefix is not None:
        state["id"] = f"{prefix}-0{digest(type_, name)}"
    extra = _COMPUTED.get(module_kind)
    if extra is not None:
        state.update(extra(name, inputs, type_))
    return state


def _eks_cluster(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    oidc_id = digest(type_, name).upper()
    return {
        "endpoint": f"https://{oidc_id}.gr7.{region()}.eks.amazonaws.com",
        "certificateAuthority": {"data": FAKE_CA},
        "identities": [
            {"oidcs": [{"issuer": f"https://oidc.eks.{region()}.amazonaws.com/id/{oidc_id}"}]}
        ],
        "status": "ACTIVE",
        "vpcConfig": {
            **inputs.get("vpcConfig", {}),
            "clusterSecurityGroupId": f"sg-0{digest(name)}",
        },
    }


def _node_group(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    # EKS names a node group's Auto Scaling group eks-<node group>-<uuid>, and its ARN and the
    # Terraform id carry the cluster's name and the node group's.
    cluster, group = inputs.get("clusterName"), inputs.get("nodeGroupName", name)
    raw = digest(type_, name) + digest(name, type_)
    group_uuid = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"
    return {
        "id": f"{cluster}:{group}",
        "arn": f"arn:aws:eks:{region()}:{AWS_ACCOUNT}:nodegroup/{cluster}/{group}/{group_uuid}",
        "resources": [{"autoscalingGroups": [{"name": f"eks-{group}-{group_uuid}"}]}],
        "status": "ACTIVE",
    }


def _named(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    """Resources whose Terraform id is their name (an IAM role, a log group, a repository)."""
    return {"id": str(inputs.get("name") or name)}


def _role_policy(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    """An inline role policy's Terraform id: `<role name>:<policy name>`."""
    return {"id": f"{inputs.get('role')}:{inputs.get('name') or name}"}


def _oidc_provider(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    host_path = str(inputs.get("url", "")).removeprefix("https://")
    return {"arn": f"arn:aws:iam::{AWS_ACCOUNT}:oidc-provider/{host_path}"}


def _kms_key(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    raw = digest(type_, name) + digest(name, type_)
    key_id = f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:32]}"
    return {"keyId": key_id, "arn": f"arn:aws:kms:{region()}:{AWS_ACCOUNT}:key/{key_id}"}


def _ecr_repository(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    host = f"{AWS_ACCOUNT}.dkr.ecr.{region()}.amazonaws.com"
    return {"repositoryUrl": f"{host}/{inputs.get('name', name)}", "registryId": AWS_ACCOUNT}


def _secret(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    suffix = digest(type_, name)[:6]
    own_name = inputs.get("name", name)
    return {"arn": f"arn:aws:secretsmanager:{region()}:{AWS_ACCOUNT}:secret:{own_name}-{suffix}"}


_COMPUTED = {
    "eks/cluster": _eks_cluster,
    "eks/nodeGroup": _node_group,
    "iam/role": _named,
    "iam/rolePolicy": _role_policy,
    "iam/openIdConnectProvider": _oidc_provider,
    "kms/key": _kms_key,
    "ecr/repository": _ecr_repository,
    "secretsmanager/secret": _secret,
    "ec2/launchTemplate": lambda name, inputs, type_: {"latestVersion": 1},
}


def availability_zones(args: dict[str, Any]) -> dict[str, Any]:
    """Three zones, as most regions have, named the way AWS names them."""
    names = [f"{region()}{letter}" for letter in "abc"]
    return {"names": names, "zoneIds": [f"use1-az{i}" for i in (1, 2, 4)], "state": "available"}


CALLS = {
    "aws:index/getCallerIdentity:getCallerIdentity": lambda _: {
        "accountId": AWS_ACCOUNT,
        "arn": f"arn:aws:iam::{AWS_ACCOUNT}:user/llmplane-plan",
        "userId": "AIDAPLANOFFLINE",
    },
    "aws:index/getPartition:getPartition": lambda _: {
        "partition": "aws",
        "dnsSuffix": "amazonaws.com",
    },
    "aws:index/getAvailabilityZones:getAvailabilityZones": availability_zones,
}
