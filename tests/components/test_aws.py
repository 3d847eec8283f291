"""The AWS target under mocks: every security property the issue names, and real dependencies."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from llmplane.components.aws import (
    AwsNetwork,
    AwsNetworkArgs,
    EcrMirror,
    EcrMirrorArgs,
    EfsSharedCache,
    EfsSharedCacheArgs,
    EksClusterAutoscaler,
    EksClusterAutoscalerArgs,
    EksControlPlane,
    EksControlPlaneArgs,
    EksGpuCluster,
    EksGpuClusterArgs,
    EksGpuNodePool,
    EksGpuNodePoolArgs,
    EksWorkloadIdentity,
    EksWorkloadIdentityArgs,
    KmsKey,
    KmsKeyArgs,
)
from llmplane.components.aws.efs import STORAGE_CLASS
from llmplane.components.aws.eks import LOG_TYPES, SUPPORTED_VERSIONS
from llmplane.components.cloud import GpuPoolSpec, WorkloadIdentity
from llmplane.components.cluster import Workload
from llmplane.components.shapes import Shape
from llmplane.infra.cloud_args.aws import aws_args
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import AwsStack, parse
from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.sizing.catalog import shapes
from tests.components.direct import capture
from tests.conftest import STACKS, parse_as
from tests.plans import chain_depth, of_type, one, plan_config, pod_spec, shipped, upstream

CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"
TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"


def _dev_config(**changes: Any) -> dict[str, Any]:
    _, config, _ = read_stack_file(STACKS / "Pulumi.aws-dev.yaml")
    return {**config, **changes}


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return shipped("aws-dev")


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return shipped("aws-prod")


@pytest.fixture(scope="module")
def mirrored() -> dict[str, Any]:
    """aws-dev with upstream registry credentials, so the pull-through cache exists."""
    config = _dev_config(
        **{"llmplane:mirrorUsername": "octocat", "llmplane:mirrorToken": "ghp_Tok3n"}
    )
    return plan_config("aws-mirror", config, frozenset({"llmplane:mirrorToken"}))


def test_cluster_encrypts_secrets_with_the_stack_key(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)["inputs"]
    key = one(dev, KEY)
    assert cluster["encryptionConfig"]["resources"] == ["secrets"]
    key_arn = cluster["encryptionConfig"]["provider"]["keyArn"]
    assert key_arn.startswith("arn:aws:kms:us-east-1:") and ":key/" in key_arn
    assert key["urn"] in one(dev, CLUSTER)["dependencies"]


def test_cluster_endpoint_logs_auth_and_version(dev: dict[str, Any], prod: dict[str, Any]) -> None:
    dev_cluster, prod_cluster = one(dev, CLUSTER)["inputs"], one(prod, CLUSTER)["inputs"]
    assert prod_cluster["vpcConfig"]["endpointPrivateAccess"] is True
    assert prod_cluster["vpcConfig"]["endpointPublicAccess"] is False
    assert "publicAccessCidrs" not in prod_cluster["vpcConfig"]
    # dev opts into a public endpoint, but only for the networks it lists.
    assert dev_cluster["vpcConfig"]["endpointPublicAccess"] is True
    assert dev_cluster["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.0/24"]
    for cluster in (dev_cluster, prod_cluster):
        assert sorted(cluster["enabledClusterLogTypes"]) == sorted(LOG_TYPES)
        assert cluster["accessConfig"]["authenticationMode"] == "API"
        assert cluster["version"] in SUPPORTED_VERSIONS
        assert cluster["upgradePolicy"] == {"supportType": "STANDARD"}


def test_control_plane_log_group_is_encrypted_and_created_first(dev: dict[str, Any]) -> None:
    logs = one(dev, "aws:cloudwatch/logGroup:LogGroup")
    assert logs["inputs"]["name"] == "/aws/eks/llm-aws-dev/cluster"
    assert logs["inputs"]["kmsKeyId"].startswith("arn:aws:kms:")
    assert logs["urn"] in one(dev, CLUSTER)["dependencies"]


def test_nodes_use_imdsv2_and_encrypted_gp3_volumes(dev: dict[str, Any]) -> None:
    templates = of_type(dev, TEMPLATE)
    assert len(templates) == 2
    for template in templates:
        metadata = template["inputs"]["metadataOptions"]
        assert metadata["httpTokens"] == "required"
        assert metadata["httpPutResponseHopLimit"] == 1
        (disk,) = template["inputs"]["blockDeviceMappings"]
        assert disk["ebs"]["encrypted"] == "true"
        assert disk["ebs"]["volumeType"] == "gp3"
        assert disk["ebs"]["kmsKeyId"].startswith("arn:aws:kms:")
        assert "networkInterfaces" not in template["inputs"]
    for group in of_type(dev, NODE_GROUP):
        assert "remoteAccess" not in group["inputs"], "no SSH into nodes"


def test_gpu_taint_matches_the_device_plugin_and_the_engine(dev: dict[str, Any]) -> None:
    gpu = one(dev, NODE_GROUP, "llm-gpu")["inputs"]
    (taint,) = gpu["taints"]
    assert taint == {"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}
    kube_effect = {"NO_SCHEDULE": "NoSchedule"}[taint["effect"]]

    def tolerates(pod: dict[str, Any]) -> bool:
        return any(
            t["key"] == taint["key"]
            and t.get("effect") == kube_effect
            and (t["operator"] == "Exists" or t.get("value") == taint["value"])
            for t in pod["tolerations"]
        )

    plugin = pod_spec(one(dev, "kubernetes:apps/v1:DaemonSet"))
    engine = pod_spec(one(dev, "kubernetes:apps/v1:Deployment", "llm"))
    for pod in (plugin, engine):
        assert tolerates(pod)
        # Both run only where the GPU group's labels say GPU.
        assert pod["nodeSelector"].items() <= gpu["labels"].items()
    assert gpu["amiType"] == "AL2023_x86_64_NVIDIA"


def test_gpu_group_scales_from_zero_with_autoscaler_tags(dev: dict[str, Any]) -> None:
    gpu = one(dev, NODE_GROUP, "llm-gpu")
    assert gpu["inputs"]["scalingConfig"]["minSize"] == 0
    tags = {
        t["inputs"]["tag"]["key"]: t["inputs"]["tag"]["value"]
        for t in of_type(dev, "aws:autoscaling/tag:Tag")
    }
    prefix = "k8s.io/cluster-autoscaler/node-template"
    assert tags[f"{prefix}/label/llmplane/pool"] == "gpu"
    assert tags[f"{prefix}/taint/nvidia.com/gpu"] == "true:NoSchedule"
    assert tags[f"{prefix}/resources/nvidia.com/gpu"] == "1"
    for tag in of_type(dev, "aws:autoscaling/tag:Tag"):
        assert gpu["urn"] in tag["dependencies"]
        assert tag["inputs"]["autoscalingGroupName"].startswith("eks-llm-gpu-")
    autoscaler = one(dev, "kubernetes:apps/v1:Deployment", "llm-autoscaler")
    args = pod_spec(autoscaler)["containers"][0]["args"]
    assert any(a.endswith("k8s.io/cluster-autoscaler/llm-aws-dev") for a in args)


def test_spot_falls_back_to_instance_types_with_equal_gpu_memory(dev: dict[str, Any]) -> None:
    gpu = one(dev, NODE_GROUP, "llm-gpu")["inputs"]
    assert gpu["capacityType"] == "SPOT"
    types = gpu["instanceTypes"]
    assert types[0] == "g6.xlarge" and len(types) >= 3
    catalog = shapes("aws")
    first = catalog[types[0]]
    for name in types[1:]:
        assert catalog[name].gpu_count == first.gpu_count
        assert catalog[name].gpu_memory_gib == first.gpu_memory_gib


def test_prod_is_on_demand_with_a_nat_per_zone(dev: dict[str, Any], prod: dict[str, Any]) -> None:
    assert one(prod, NODE_GROUP, "llm-gpu")["inputs"]["capacityType"] == "ON_DEMAND"
    assert one(prod, NODE_GROUP, "llm-gpu")["inputs"]["instanceTypes"] == ["p5.48xlarge"]
    assert len(of_type(prod, "aws:ec2/natGateway:NatGateway")) == 3
    assert len(of_type(dev, "aws:ec2/natGateway:NatGateway")) == 1


def test_private_endpoints_keep_image_pulls_off_the_nat(dev: dict[str, Any]) -> None:
    services = {
        e["inputs"]["serviceName"].rsplit(".", 2)[-2:][-1]: e["inputs"]["vpcEndpointType"]
        for e in of_type(dev, "aws:ec2/vpcEndpoint:VpcEndpoint")
    }
    names = {e["inputs"]["serviceName"] for e in of_type(dev, "aws:ec2/vpcEndpoint:VpcEndpoint")}
    assert names == {f"com.amazonaws.us-east-1.{s}" for s in ("s3", "ecr.api", "ecr.dkr", "sts")}
    assert set(services.values()) == {"Gateway", "Interface"}


def test_key_rotates_and_names_no_wildcard_principal(dev: dict[str, Any]) -> None:
    key = one(dev, KEY)["inputs"]
    assert key["enableKeyRotation"] is True
    assert key.get("bypassPolicyLockoutSafetyCheck") is False
    for statement in json.loads(key["policy"])["Statement"]:
        principal = statement["Principal"]
        assert principal != "*"
        assert "*" not in json.dumps(principal)
    assert one(dev, "aws:kms/alias:Alias")["inputs"]["name"] == "alias/llm-aws-dev"


def test_irsa_roles_are_scoped_to_one_service_account(dev: dict[str, Any]) -> None:
    oidc = one(dev, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")
    expected = {
        "llm-autoscaler-irsa": "system:serviceaccount:kube-system:cluster-autoscaler",
        "llm-ebs-csi-irsa": "system:serviceaccount:kube-system:ebs-csi-controller-sa",
    }
    for name, subject in expected.items():
        (statement,) = json.loads(one(dev, ROLE, name)["inputs"]["assumeRolePolicy"])["Statement"]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"] == {
            "Federated": f"arn:aws:iam::123456789012:oidc-provider/{oidc['inputs']['url'].removeprefix('https://')}"
        }
        conditions = statement["Condition"]["StringEquals"]
        host = oidc["inputs"]["url"].removeprefix("https://")
        assert conditions == {f"{host}:sub": subject, f"{host}:aud": "sts.amazonaws.com"}


def test_inline_policies_scope_their_writes(dev: dict[str, Any]) -> None:
    for policy in of_type(dev, "aws:iam/rolePolicy:RolePolicy"):
        for statement in json.loads(policy["inputs"]["policy"])["Statement"]:
            actions = (
                statement["Action"]
                if isinstance(statement["Action"], list)
                else [statement["Action"]]
            )
            assert "*" not in actions
            if statement["Resource"] == "*":
                # Only read-only discovery calls, which AWS cannot scope to a resource.
                assert all(a.split(":")[1].startswith(("Describe", "Get")) for a in actions), (
                    statement
                )


def test_ecr_repository_is_immutable_scanned_and_encrypted(dev: dict[str, Any]) -> None:
    repository = one(dev, "aws:ecr/repository:Repository")["inputs"]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    (encryption,) = repository["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS" and encryption["kmsKey"].startswith("arn:aws:kms:")


def test_pull_through_cache_serves_the_engine_image(mirrored: dict[str, Any]) -> None:
    rule = one(mirrored, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")["inputs"]
    assert rule["upstreamRegistryUrl"] == "ghcr.io"
    assert rule["ecrRepositoryPrefix"] == "github"
    assert ":secret:ecr-pullthroughcache/" in rule["credentialArn"]
    secret = one(mirrored, "aws:secretsmanager/secretVersion:SecretVersion")["inputs"]
    assert secret["secretString"] == "[secret]"
    assert "ghp_Tok3n" not in json.dumps(mirrored)
    image = pod_spec(one(mirrored, "kubernetes:apps/v1:Deployment", "llm"))["containers"][0][
        "image"
    ]
    assert image == (
        "123456789012.dkr.ecr.us-east-1.amazonaws.com/github/"
        "huggingface/text-generation-inference:3.3.7"
    )
    node_policy = json.loads(
        one(mirrored, "aws:iam/rolePolicy:RolePolicy", "llm-node-cache")["inputs"]["policy"]
    )
    (statement,) = node_policy["Statement"]
    assert statement["Resource"].endswith(":repository/github/*")
    template = one(mirrored, "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate")
    assert template["inputs"]["appliedFors"] == ["PULL_THROUGH_CACHE"]


def test_without_credentials_the_engine_image_comes_from_upstream(dev: dict[str, Any]) -> None:
    assert not of_type(dev, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule")
    image = pod_spec(one(dev, "kubernetes:apps/v1:Deployment", "llm"))["containers"][0]["image"]
    assert image.startswith("ghcr.io/huggingface/")


def test_dependencies_are_real_and_minimal(dev: dict[str, Any]) -> None:
    cluster = one(dev, CLUSTER)
    subnets = {s["urn"] for s in of_type(dev, "aws:ec2/subnet:Subnet") if "private" in s["name"]}
    assert subnets <= set(cluster["dependencies"])
    assert one(dev, KEY)["urn"] in cluster["dependencies"]
    for group in of_type(dev, NODE_GROUP):
        assert cluster["urn"] in group["dependencies"]
    # The registry needs the key, not the network: it is created alongside the VPC.
    repository = one(dev, "aws:ecr/repository:Repository")
    assert not [u for u in upstream(dev, repository) if ":aws:ec2/" in u]
    # The longest chain: key -> encrypted log group -> cluster -> kube-proxy add-on -> system
    # nodes -> autoscaler service account -> autoscaler; or, as long, through the provider to
    # the namespace, the engine's service account, the engine and its ScaledObject.
    # One more since #18: the engine waits for the Job that warms the shared weights cache.
    assert chain_depth(dev) == 9


def test_existing_vpc_creates_no_network(dev: dict[str, Any]) -> None:
    config = _dev_config(
        **{
            "llmplane:network": {
                "vpcId": "vpc-0123456789abcdef0",
                "privateSubnetIds": ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"],
            }
        }
    )
    plan = plan_config("aws-byo", config)
    assert not [r for r in plan["resources"] if r["type"].startswith("aws:ec2/subnet")]
    assert not of_type(plan, "aws:ec2/vpc:Vpc")
    vpc = one(plan, CLUSTER)["inputs"]["vpcConfig"]
    assert vpc["subnetIds"] == ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]


@pytest.mark.parametrize(
    ("gpu", "cluster", "key", "words"),
    [
        ({"shape": "auto"}, {}, "llmplane:gpu.shape", "built-in model table"),
        ({"shape": "g9.mega"}, {}, "llmplane:gpu.shape", "not a GPU shape llmplane knows on aws"),
        ({"shape": "g6.xlarge", "count": 2}, {}, "llmplane:gpu.count", "has 1 GPU"),
        (
            {"shape": "g6.xlarge"},
            {"kubernetesVersion": "1.29"},
            "llmplane:cluster.kubernetesVersion",
            "EKS supports",
        ),
    ],
)
def test_aws_specific_bad_input(gpu: dict, cluster: dict, key: str, words: str) -> None:
    from llmplane.infra.cloud_args import cluster_for

    config = {
        "llmplane:cloud": "aws",
        "aws:region": "us-east-1",
        "llmplane:model": {"id": "a/b"},
        "llmplane:gpu": gpu,
        "llmplane:cluster": cluster,
    }
    with pytest.raises(SettingsError) as caught:
        cluster_for(parse("bad", config), Workload("llm", "llm"))
    assert caught.value.key == key
    assert words in str(caught.value)


def test_every_supported_version_has_an_autoscaler_image() -> None:
    """The autoscaler's minor version must match the cluster's."""
    from llmplane.components.aws.autoscaler import IMAGES

    assert set(SUPPORTED_VERSIONS) <= set(IMAGES)


# An AWS shape written out by hand: the library needs no catalog, settings or stack file.
L4 = Shape(
    cloud="aws", name="g6.xlarge", gpu="L4", gpu_count=1, gpu_memory_gib=24, vcpu=4,
    memory_gib=16, local_disk_gib=0, source="test", as_of="2026-11-28",
)  # fmt: skip
L4_BIGGER = Shape(**{**L4.__dict__, "name": "g6.2xlarge", "vcpu": 8, "memory_gib": 32})
POOL = GpuPoolSpec(shape=L4, count=1, spot=True, min_nodes=0, max_nodes=2)
TGI = "ghcr.io/huggingface/text-generation-inference:3.3.7"
# What a cluster llmplane did not create looks like from outside: names and ids, nothing more.
THEIR_SUBNETS = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0bbbbbbbbbbbbbbb2"]
THEIR_ROLE = "arn:aws:iam::123456789012:role/their-nodes"
THEIR_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/THEIRS0123456789"
THEIR_PROVIDER = (
    "arn:aws:iam::123456789012:oidc-provider/oidc.eks.eu-west-1.amazonaws.com/id/THEIRS0123456789"
)


def _cluster_args(**changes: Any) -> EksGpuClusterArgs:
    """EksGpuClusterArgs with everything a direct build needs; call it inside `capture`."""
    fields: dict[str, Any] = {
        "region": "eu-west-1",
        "cluster_name": "gpu-direct",
        "pool": POOL,
        "engine_image": TGI,
        "tags": {"team": "ml"},
        "control_plane": EksControlPlaneArgs(kubernetes_version="1.36"),
        "network": AwsNetworkArgs(cidr="10.20.0.0/16"),
        "spot_fallbacks": (L4_BIGGER,),
        "mirror_credentials": ("octocat", pulumi.Output.secret("ghp_Tok3n")),
        **changes,
    }
    return EksGpuClusterArgs(**fields)


def _types(plan: dict[str, Any]) -> list[str]:
    """The type tokens of every resource the program registered, the root stack left out."""
    return sorted(r["type"] for r in plan["resources"] if r["type"] != "pulumi:pulumi:Stack")


def _children(plan: dict[str, Any], parent: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in plan["resources"] if r["parent"] == parent["urn"]]


def test_eks_gpu_cluster_builds_from_its_args_alone() -> None:
    """EKS cluster, GPU node group and ECR pull-through cache, from its args and no settings."""
    built: dict[str, EksGpuCluster] = {}

    def build() -> pulumi.Output[str]:
        cluster = built["cluster"] = EksGpuCluster("gpu", _cluster_args())
        assert cluster.placement.node_selector == {"llmplane/pool": "gpu"}
        assert cluster.registry is not None, "credentials were given, so the cache exists"
        return cluster.registry.mirror(TGI)

    plan = capture(build)
    cluster = one(plan, CLUSTER, "gpu-eks")
    assert cluster["inputs"]["name"] == "gpu-direct"
    assert cluster["inputs"]["version"] == "1.36"
    assert cluster["inputs"]["vpcConfig"]["endpointPublicAccess"] is False
    assert cluster["inputs"]["tags"] == {"team": "ml"}
    gpu = one(plan, NODE_GROUP, "gpu-gpu")
    assert gpu["inputs"]["instanceTypes"] == ["g6.xlarge", "g6.2xlarge"]
    assert gpu["inputs"]["capacityType"] == "SPOT"
    assert gpu["inputs"]["scalingConfig"] == {"minSize": 0, "desiredSize": 0, "maxSize": 2}
    assert cluster["urn"] in gpu["dependencies"]
    cache = one(plan, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "gpu-cache")
    assert cache["inputs"]["upstreamRegistryUrl"] == "ghcr.io"
    assert one(plan, "aws:ecr/repository:Repository")["inputs"]["name"] == "gpu-direct"
    assert one(plan, "aws:ec2/vpc:Vpc")["inputs"]["cidrBlock"] == "10.20.0.0/16"
    endpoints = of_type(plan, "aws:ec2/vpcEndpoint:VpcEndpoint")
    assert "com.amazonaws.eu-west-1.s3" in {e["inputs"]["serviceName"] for e in endpoints}
    assert "ghp_Tok3n" not in json.dumps(plan)
    # The node role may fill the cache; the Kubernetes objects go through the cluster's provider.
    policy = one(plan, "aws:iam/rolePolicy:RolePolicy", "gpu-node-cache")
    assert one(plan, ROLE, "gpu-node-role")["urn"] in policy["dependencies"]
    provider = one(plan, "pulumi:providers:kubernetes", "gpu-k8s")
    kube = [r for r in plan["resources"] if r["type"].startswith("kubernetes:")]
    assert kube and all(r["provider"] == provider["urn"] for r in kube)
    assert built["cluster"].cluster.name == "gpu-direct"
    assert built["cluster"].cluster.shared_cache_class == "llmplane-efs"


def test_the_composite_is_a_tree_of_nested_components() -> None:
    """Its direct children are the nested components, the provider and the device plugin."""
    plan = capture(lambda: EksGpuCluster("gpu", _cluster_args(workload=Workload("llm", "llm"))))
    (root,) = of_type(plan, "llmplane:aws:GpuCluster")
    children = _children(plan, root)
    assert sorted((r["type"], r["name"]) for r in children) == [
        ("kubernetes:apps/v1:DaemonSet", "gpu-device-plugin"),
        ("llmplane:aws:ClusterAutoscaler", "gpu"),
        ("llmplane:aws:ControlPlane", "gpu"),
        ("llmplane:aws:EncryptionKey", "gpu"),
        ("llmplane:aws:GpuNodePool", "gpu"),
        ("llmplane:aws:Network", "gpu"),
        ("llmplane:aws:RegistryMirror", "gpu"),
        ("llmplane:aws:SharedCache", "gpu"),
        ("llmplane:aws:WorkloadIdentity", "gpu"),
        ("pulumi:providers:kubernetes", "gpu-k8s"),
    ]
    by_kind = {r["type"].rsplit(":", 1)[-1]: r for r in children}
    # Each resource lives in the component that owns it.
    assert one(plan, CLUSTER)["parent"] == by_kind["ControlPlane"]["urn"]
    assert one(plan, NODE_GROUP, "gpu-system")["parent"] == by_kind["ControlPlane"]["urn"]
    assert one(plan, NODE_GROUP, "gpu-gpu")["parent"] == by_kind["GpuNodePool"]["urn"]
    assert one(plan, KEY)["parent"] == by_kind["EncryptionKey"]["urn"]
    assert one(plan, "aws:ec2/vpc:Vpc")["parent"] == by_kind["Network"]["urn"]
    assert one(plan, ROLE, "gpu-engine-irsa")["parent"] == by_kind["WorkloadIdentity"]["urn"]
    deployment = one(plan, "kubernetes:apps/v1:Deployment", "gpu-autoscaler")
    assert deployment["parent"] == by_kind["ClusterAutoscaler"]["urn"]
    # The control plane holds the cluster and what system pods need: 18 resources here.
    assert len(_children(plan, by_kind["ControlPlane"])) == 18


def test_without_a_workload_the_composite_binds_no_identity() -> None:
    built: dict[str, EksGpuCluster] = {}

    def build() -> None:
        built["cluster"] = EksGpuCluster("gpu", _cluster_args())

    plan = capture(build)
    assert not of_type(plan, "llmplane:aws:WorkloadIdentity")
    assert not [r for r in of_type(plan, ROLE) if "engine" in r["name"]]
    assert built["cluster"].identity == WorkloadIdentity()


def test_with_a_workload_the_identity_names_its_role() -> None:
    built: dict[str, EksGpuCluster] = {}

    def build() -> pulumi.Output[Any]:
        built["cluster"] = cluster = EksGpuCluster(
            "gpu", _cluster_args(workload=Workload("chat", "chat-engine"))
        )
        return pulumi.Output.from_input(cluster.identity.annotations["eks.amazonaws.com/role-arn"])

    plan = capture(build)
    role = one(plan, ROLE, "gpu-engine-irsa")
    (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    (subject,) = [
        v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
    ]
    assert subject == "system:serviceaccount:chat:chat-engine"
    assert one(plan, "aws:iam/openIdConnectProvider:OpenIdConnectProvider")["urn"] in set(
        role["dependencies"]
    )


def test_key_alone() -> None:
    """A key with its alias and nothing else: no account-wide resource, no cluster."""
    plan = capture(
        lambda: KmsKey("k", KmsKeyArgs(cluster_name="shared", region="eu-west-1", tags={"a": "b"}))
    )
    assert _types(plan) == ["aws:kms/alias:Alias", "aws:kms/key:Key", "llmplane:aws:EncryptionKey"]
    key = one(plan, KEY, "k-key")["inputs"]
    assert key["enableKeyRotation"] is True and key["tags"] == {"a": "b"}
    logs = [s for s in json.loads(key["policy"])["Statement"] if s["Sid"].startswith("CloudWatch")]
    (grant,) = logs
    assert grant["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert grant["Condition"]["ArnEquals"]["kms:EncryptionContext:aws:logs:arn"].endswith(
        ":log-group:/aws/eks/shared/cluster"
    )
    alias = one(plan, "aws:kms/alias:Alias", "k-key")
    assert alias["inputs"]["name"] == "alias/shared"
    assert one(plan, KEY)["urn"] in alias["dependencies"]


def test_network_alone_creates_a_vpc_over_three_zones() -> None:
    plan = capture(
        lambda: AwsNetwork(
            "net",
            AwsNetworkArgs(
                cidr="10.30.0.0/16", nat_gateways="perZone", region="eu-west-1", tags={"a": "b"}
            ),
        )
    )
    assert one(plan, "aws:ec2/vpc:Vpc", "net-vpc")["inputs"]["tags"] == {
        "a": "b",
        "Name": "net-vpc",
    }
    assert len(of_type(plan, "aws:ec2/subnet:Subnet")) == 6
    assert len(of_type(plan, "aws:ec2/natGateway:NatGateway")) == 3
    assert {
        e["inputs"]["serviceName"] for e in of_type(plan, "aws:ec2/vpcEndpoint:VpcEndpoint")
    } == {f"com.amazonaws.eu-west-1.{s}" for s in ("s3", "ecr.api", "ecr.dkr", "sts")}
    assert not [t for t in _types(plan) if t.startswith(("aws:eks", "aws:kms", "aws:iam"))]


def test_an_existing_network_creates_nothing_but_exposes_its_ids() -> None:
    def build() -> dict[str, Any]:
        network = AwsNetwork(
            "net",
            AwsNetworkArgs(vpc_id="vpc-0theirs", private_subnet_ids=THEIR_SUBNETS),
        )
        return {"vpc": network.vpc_id, "private": network.private_subnet_ids}

    plan = capture(lambda: pulumi.export("ids", build()))
    assert _types(plan) == ["llmplane:aws:Network"]
    assert plan["outputs"]["ids"] == {"vpc": "vpc-0theirs", "private": THEIR_SUBNETS}


def test_gpu_pool_attaches_to_a_cluster_llmplane_did_not_create() -> None:
    """Given only a name, subnet ids and a role ARN, it creates the group and nothing else."""
    plan = capture(
        lambda: EksGpuNodePool(
            "extra",
            EksGpuNodePoolArgs(
                cluster_name="their-cluster",
                subnet_ids=THEIR_SUBNETS,
                node_role_arn=THEIR_ROLE,
                pool=GpuPoolSpec(shape=L4, count=1, spot=False, min_nodes=1, max_nodes=3),
                volume_gib=120,
                tags={"owner": "them"},
            ),
        )
    )
    assert _types(plan) == [
        *["aws:autoscaling/tag:Tag"] * 4,
        "aws:ec2/launchTemplate:LaunchTemplate",
        "aws:eks/nodeGroup:NodeGroup",
        "llmplane:aws:GpuNodePool",
    ]
    group = one(plan, NODE_GROUP, "extra-gpu")
    inputs = group["inputs"]
    assert inputs["clusterName"] == "their-cluster"
    assert inputs["subnetIds"] == THEIR_SUBNETS
    assert inputs["nodeRoleArn"] == THEIR_ROLE
    assert inputs["capacityType"] == "ON_DEMAND" and inputs["instanceTypes"] == ["g6.xlarge"]
    assert inputs["scalingConfig"] == {"minSize": 1, "desiredSize": 1, "maxSize": 3}
    assert inputs["taints"] == [{"key": "nvidia.com/gpu", "value": "true", "effect": "NO_SCHEDULE"}]
    (disk,) = one(plan, TEMPLATE, "extra-gpu")["inputs"]["blockDeviceMappings"]
    # No key given: still encrypted, with the account's default EBS key.
    assert disk["ebs"]["encrypted"] == "true" and "kmsKeyId" not in disk["ebs"]
    assert disk["ebs"]["volumeSize"] == 120
    for tag in of_type(plan, "aws:autoscaling/tag:Tag"):
        assert tag["dependencies"] == [group["urn"]]
        assert tag["inputs"]["autoscalingGroupName"].startswith("eks-extra-gpu-")


def test_registry_mirror_needs_no_cluster() -> None:
    def build() -> Any:
        mirror = EcrMirror(
            "m",
            EcrMirrorArgs(
                repository_name="team-images",
                engine_image="vllm/vllm-openai:v0.11.0",
                region="eu-west-1",
                key_arn="arn:aws:kms:eu-west-1:123456789012:key/theirs",
                credentials=("octocat", pulumi.Output.secret("dckr_pat_Tok3n")),
                pull_role_names=["their-nodes", "their-builders"],
                tags={"a": "b"},
            ),
        )
        assert mirror.registry is not None and mirror.prefix is not None
        pulumi.export("prefix", mirror.prefix)

    plan = capture(build)
    assert not [t for t in _types(plan) if t.startswith(("aws:eks", "aws:ec2", "kubernetes"))]
    rule = one(plan, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", "m-cache")["inputs"]
    assert rule["upstreamRegistryUrl"] == "registry-1.docker.io"
    assert rule["ecrRepositoryPrefix"] == "docker-hub"
    repository = one(plan, "aws:ecr/repository:Repository", "m-repo")["inputs"]
    assert repository["name"] == "team-images"
    assert repository["encryptionConfigurations"][0]["kmsKey"].endswith(":key/theirs")
    policies = {
        p["name"]: p["inputs"]["role"] for p in of_type(plan, "aws:iam/rolePolicy:RolePolicy")
    }
    assert policies == {"m-node-cache": "their-nodes", "m-node-cache-1": "their-builders"}
    assert plan["outputs"]["prefix"] == "123456789012.dkr.ecr.eu-west-1.amazonaws.com/docker-hub"
    assert "dckr_pat_Tok3n" not in json.dumps(plan)


def test_registry_mirror_without_credentials_is_a_repository_only() -> None:
    def build() -> None:
        mirror = EcrMirror(
            "m", EcrMirrorArgs(repository_name="r", engine_image=TGI, region="eu-west-1")
        )
        assert mirror.registry is None and mirror.prefix is None

    plan = capture(build)
    assert _types(plan) == [
        "aws:ecr/lifecyclePolicy:LifecyclePolicy",
        "aws:ecr/repository:Repository",
        "llmplane:aws:RegistryMirror",
    ]
    assert "encryptionConfigurations" not in one(plan, "aws:ecr/repository:Repository")["inputs"]


def test_workload_identity_from_an_issuer_string() -> None:
    def build() -> None:
        bound = EksWorkloadIdentity(
            "chat",
            EksWorkloadIdentityArgs(
                oidc_provider_arn=THEIR_PROVIDER,
                oidc_issuer=THEIR_ISSUER,
                workload=Workload(namespace="llm", service_account="chat"),
            ),
        )
        pulumi.export("annotations", bound.identity.annotations)

    plan = capture(build)
    assert _types(plan) == ["aws:iam/role:Role", "llmplane:aws:WorkloadIdentity"]
    role = one(plan, ROLE, "chat-engine-irsa")
    (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    assert statement["Principal"] == {"Federated": THEIR_PROVIDER}
    host = THEIR_ISSUER.removeprefix("https://")
    assert statement["Condition"]["StringEquals"] == {
        f"{host}:sub": "system:serviceaccount:llm:chat",
        f"{host}:aud": "sts.amazonaws.com",
    }
    # A role with no permissions: nothing attached, nothing inline.
    assert not of_type(plan, "aws:iam/rolePolicy:RolePolicy")
    assert not of_type(plan, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
    (arn,) = plan["outputs"]["annotations"].values()
    assert arn.startswith("arn:aws:iam::123456789012:role/chat-engine-irsa")


def test_autoscaler_alone_deploys_through_the_provider_it_is_given() -> None:
    def build() -> None:
        provider = k8s.Provider("theirs", kubeconfig="apiVersion: v1\nkind: Config\n")
        EksClusterAutoscaler(
            "ca",
            EksClusterAutoscalerArgs(
                cluster_name="their-cluster",
                region="eu-west-1",
                kubernetes_version="1.36",
                oidc_provider_arn=THEIR_PROVIDER,
                oidc_issuer=THEIR_ISSUER,
            ),
            pulumi.ResourceOptions(provider=provider),
        )

    plan = capture(build)
    provider = one(plan, "pulumi:providers:kubernetes", "theirs")
    kube = [r for r in plan["resources"] if r["type"].startswith("kubernetes:")]
    assert len(kube) == 6
    assert all(r["provider"] == provider["urn"] for r in kube)
    deployment = one(plan, "kubernetes:apps/v1:Deployment", "ca-autoscaler")
    (container,) = pod_spec(deployment)["containers"]
    assert container["image"].endswith(":v1.36.0")
    assert any(a.endswith("k8s.io/cluster-autoscaler/their-cluster") for a in container["args"])
    policy = json.loads(
        one(plan, "aws:iam/rolePolicy:RolePolicy", "ca-autoscaler")["inputs"]["policy"]
    )
    scoped = [s for s in policy["Statement"] if s["Sid"] == "ReadThisClustersNodeGroups"]
    assert scoped[0]["Resource"].endswith(":nodegroup/their-cluster/*")


def test_control_plane_alone_needs_its_wiring() -> None:
    """Alone, the control plane must be told its name, region, subnets and key."""

    def build() -> None:
        EksControlPlane("cp", EksControlPlaneArgs(cluster_name="cp", region="eu-west-1"))

    with pytest.raises(ValueError, match="subnet_ids is not set"):
        capture(build)
    plan = capture(
        lambda: EksControlPlane(
            "cp",
            EksControlPlaneArgs(
                cluster_name="cp",
                region="eu-west-1",
                subnet_ids=THEIR_SUBNETS,
                key_arn="arn:aws:kms:eu-west-1:123456789012:key/theirs",
            ),
        )
    )
    assert one(plan, CLUSTER, "cp-eks")["inputs"]["vpcConfig"]["subnetIds"] == THEIR_SUBNETS
    assert {a["inputs"]["addonName"] for a in of_type(plan, "aws:eks/addon:Addon")} == {
        "vpc-cni", "kube-proxy", "coredns", "aws-ebs-csi-driver"
    }  # fmt: skip
    assert [g["name"] for g in of_type(plan, NODE_GROUP)] == ["cp-system"]
    assert not [t for t in _types(plan) if t.startswith(("aws:ec2/vpc", "aws:kms", "kubernetes"))]


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: EksControlPlaneArgs(kubernetes_version="1.29"), "not a version EKS supports"),
        (lambda: EksControlPlaneArgs(private_endpoint=False), "needs authorized_cidrs"),
        (
            lambda: EksControlPlaneArgs(private_endpoint=False, authorized_cidrs=["0.0.0.0/0"]),
            "set allow_open_endpoint",
        ),
        (lambda: EksControlPlaneArgs(subnet_ids=["subnet-0a"]), "at least two private"),
        (lambda: EksControlPlaneArgs(cluster_name="No_Label"), "cluster_name 'No_Label'"),
        (lambda: AwsNetworkArgs(private_subnet_ids=["subnet-0a"]), "without vpc_id"),
        (lambda: AwsNetworkArgs(vpc_id="vpc-0a", private_subnet_ids=["s-1"]), "two private"),
        (lambda: AwsNetworkArgs(cidr="8.8.0.0/16"), "not a private IPv4 range"),
        (lambda: AwsNetworkArgs(region=""), "region is empty"),
        (lambda: EksGpuClusterArgs("", "llm", POOL, "img"), "region is empty"),
        (lambda: EksGpuClusterArgs("us-east-1", "Not_A_Label", POOL, "img"), "not a DNS label"),
        (
            lambda: EksGpuClusterArgs(
                "us-east-1",
                "llm",
                GpuPoolSpec(Shape(**{**L4.__dict__, "cloud": "gcp"}), 1, False, 0, 1),
                "img",
            ),
            "EksGpuCluster needs one of aws",
        ),
        (
            lambda: EksGpuClusterArgs(
                "us-east-1",
                "llm",
                POOL,
                "img",
                control_plane=EksControlPlaneArgs(subnet_ids=THEIR_SUBNETS),
            ),
            "control_plane.subnet_ids is set",
        ),
        (
            lambda: EksGpuClusterArgs(
                "us-east-1", "llm", POOL, "img", network=AwsNetworkArgs(region="eu-west-1")
            ),
            "network.region",
        ),
        (lambda: KmsKeyArgs(cluster_name="Bad Name", region="us-east-1"), "not a DNS label"),
        (lambda: KmsKeyArgs(cluster_name="k", region=""), "region is empty"),
        (
            lambda: EksGpuNodePoolArgs(
                cluster_name="c", subnet_ids=[], node_role_arn=THEIR_ROLE, pool=POOL
            ),
            "subnet_ids is empty",
        ),
        (
            lambda: EksGpuNodePoolArgs(
                cluster_name="c",
                subnet_ids=THEIR_SUBNETS,
                node_role_arn=THEIR_ROLE,
                pool=POOL,
                spot_fallbacks=(Shape(**{**L4.__dict__, "cloud": "azure"}),),
            ),
            "EksGpuNodePool needs one of aws",
        ),
        (
            lambda: EksGpuNodePoolArgs(
                cluster_name="c",
                subnet_ids=THEIR_SUBNETS,
                node_role_arn=THEIR_ROLE,
                pool=POOL,
                volume_gib=0,
            ),
            "volume_gib is 0",
        ),
        (lambda: EcrMirrorArgs(repository_name="r", engine_image=TGI, region=""), "region"),
        (lambda: EcrMirrorArgs(repository_name="R", engine_image=TGI, region="x"), "lowercase"),
        (
            lambda: EksWorkloadIdentityArgs(
                oidc_provider_arn=THEIR_PROVIDER,
                oidc_issuer=THEIR_ISSUER,
                workload=Workload("llm", ""),
            ),
            "workload.service_account is empty",
        ),
        (
            lambda: EksClusterAutoscalerArgs(
                cluster_name="c",
                region="us-east-1",
                kubernetes_version="1.29",
                oidc_provider_arn=THEIR_PROVIDER,
                oidc_issuer=THEIR_ISSUER,
            ),
            "no cluster-autoscaler image",
        ),
    ],
)
def test_args_refuse_what_aws_would_reject_with_a_plain_error(make: Any, words: str) -> None:
    """The library raises ValueError; turning it into a SettingsError is the program's job."""
    with pytest.raises(ValueError, match=words):
        make()


def test_a_new_network_alone_needs_a_region_for_its_endpoints() -> None:
    with pytest.raises(ValueError, match="region is None"):
        capture(lambda: AwsNetwork("net", AwsNetworkArgs()))
    # Without endpoints, the region is not needed.
    plan = capture(lambda: AwsNetwork("net", AwsNetworkArgs(private_endpoints=False)))
    assert not of_type(plan, "aws:ec2/vpcEndpoint:VpcEndpoint")


def test_open_endpoint_is_accepted_when_asked_for() -> None:
    """0.0.0.0/0 is an explicit, written choice, never a default."""
    args = EksControlPlaneArgs(
        private_endpoint=False, authorized_cidrs=["0.0.0.0/0"], allow_open_endpoint=True
    )
    assert list(args.authorized_cidrs) == ["0.0.0.0/0"]


def test_stack_settings_map_to_args_in_infra() -> None:
    """infra/cloud_args/aws.py resolves the stack file into plain values, fallbacks included."""
    dev = aws_args(parse_as(AwsStack, "aws-dev", _dev_config()))
    assert (dev.region, dev.cluster_name) == ("us-east-1", "llm-aws-dev")
    assert dev.tags == {"team": "ml-platform", "env": "dev", "project": "llmplane",
                        "stack": "aws-dev", "managed-by": "pulumi"}  # fmt: skip
    assert dev.control_plane == EksControlPlaneArgs(
        kubernetes_version="1.35", private_endpoint=False, authorized_cidrs=("203.0.113.0/24",)
    )
    assert dev.network.nat_gateways == "single" and dev.network.vpc_id is None
    assert dev.pool.shape.name == "g6.xlarge" and dev.pool.spot
    assert len(dev.spot_fallbacks) == 2
    for fallback in dev.spot_fallbacks:
        assert (fallback.gpu_count, fallback.gpu_memory_gib) == (1, 24)
    assert dev.engine_image.startswith("ghcr.io/huggingface/text-generation-inference:")
    assert dev.mirror_credentials is None
    assert dev.workload is None
    _, prod_config, _ = read_stack_file(STACKS / "Pulumi.aws-prod.yaml")
    prod = aws_args(
        parse_as(AwsStack, "aws-prod", prod_config), Workload("llm-aws-prod", "inference")
    )
    assert prod.spot_fallbacks == () and not prod.pool.spot
    assert prod.workload == Workload("llm-aws-prod", "inference")


def test_the_shipped_plan_binds_the_engine_identity(dev: dict[str, Any]) -> None:
    """The program passes the engine's ServiceAccount, so the composite builds the identity."""
    (identity,) = of_type(dev, "llmplane:aws:WorkloadIdentity")
    role = one(dev, ROLE, "llm-engine-irsa")
    assert role["parent"] == identity["urn"]
    account = one(dev, "kubernetes:core/v1:ServiceAccount", "llm-sa")["inputs"]["metadata"]
    arn = account["annotations"]["eks.amazonaws.com/role-arn"]
    assert arn.startswith("arn:aws:iam::123456789012:role/llm-engine-irsa")
    (statement,) = json.loads(role["inputs"]["assumeRolePolicy"])["Statement"]
    (subject,) = [
        v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")
    ]
    assert subject == f"system:serviceaccount:{account['namespace']}:{account['name']}"


def test_the_shared_cache_builds_for_a_cluster_llmplane_did_not_create() -> None:
    """EFS, NFS open only to the given node group, a mount target per subnet, CSI and its class."""

    def build() -> None:
        cluster = k8s.Provider("theirs", context="their-cluster")
        EfsSharedCache(
            "weights",
            EfsSharedCacheArgs(
                cluster_name="their-cluster",
                vpc_id="vpc-0123456789abcdef0",
                subnet_ids=THEIR_SUBNETS,
                node_security_group_id="sg-0nodes",
                oidc_provider_arn=THEIR_PROVIDER,
                oidc_issuer=THEIR_ISSUER,
            ),
            opts=pulumi.ResourceOptions(providers=[cluster]),
        )

    plan = capture(build)
    filesystem = one(plan, "aws:efs/fileSystem:FileSystem", "weights-cache")
    assert filesystem["inputs"]["encrypted"] is True
    mounts = of_type(plan, "aws:efs/mountTarget:MountTarget")
    assert sorted(m["inputs"]["subnetId"] for m in mounts) == sorted(THEIR_SUBNETS)
    (ingress,) = one(plan, "aws:ec2/securityGroup:SecurityGroup", "weights-cache-nfs")["inputs"][
        "ingress"
    ]
    assert ingress["securityGroups"] == ["sg-0nodes"] and ingress["fromPort"] == 2049
    assert "cidrBlocks" not in ingress
    addon = one(plan, "aws:eks/addon:Addon")
    assert addon["inputs"]["clusterName"] == "their-cluster"
    assert addon["inputs"]["addonName"] == "aws-efs-csi-driver"
    storage = one(plan, "kubernetes:storage.k8s.io/v1:StorageClass", "weights-cache-class")
    assert storage["inputs"]["metadata"]["name"] == STORAGE_CLASS
    assert storage["provider"] == one(plan, "pulumi:providers:kubernetes", "theirs")["urn"]
    with pytest.raises(ValueError, match="subnet_ids is empty"):
        EfsSharedCacheArgs(
            cluster_name="c", vpc_id="v", subnet_ids=[], node_security_group_id="s",
            oidc_provider_arn=THEIR_PROVIDER, oidc_issuer=THEIR_ISSUER,
        )  # fmt: skip
