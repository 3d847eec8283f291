"""The AWS target under mocks: every security property the issue names, and real dependencies."""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from llmplane.components.aws import AwsCloud, AwsCloudArgs, AwsNetworkArgs, EksControlPlaneArgs
from llmplane.components.aws.eks import LOG_TYPES, SUPPORTED_VERSIONS
from llmplane.components.cloud import GpuPoolSpec
from llmplane.components.shapes import Shape
from llmplane.infra.catalog import shapes
from llmplane.infra.cloud_args.aws import aws_args
from llmplane.infra.errors import SettingsError
from llmplane.infra.settings import parse
from llmplane.infra.stackfile import read_stack_file
from tests.components.direct import capture
from tests.conftest import STACKS
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
    assert chain_depth(dev) == 8


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
    from llmplane.infra.cloud_args import cloud_for

    config = {
        "llmplane:cloud": "aws",
        "aws:region": "us-east-1",
        "llmplane:model": {"id": "a/b"},
        "llmplane:gpu": gpu,
        "llmplane:cluster": cluster,
    }
    with pytest.raises(SettingsError) as caught:
        cloud_for(parse("bad", config))
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


def _build_directly(make_args: Any) -> dict[str, Any]:
    """Run AwsCloud's steps under the plan's mocks, in the protocol's order; a plan of them.

    `make_args` is called inside the mock runtime, so secret Outputs it makes belong to it.
    """

    def build() -> pulumi.Output[str]:
        parent = pulumi.ComponentResource("test:index:Harness", "gpu")
        cloud = AwsCloud(make_args())
        key = cloud.key(parent)
        cluster = cloud.cluster(parent, key)
        placement = cloud.gpu_pool(parent, cluster)
        assert placement.node_selector == {"llmplane/pool": "gpu"}
        registry = cloud.registry(parent, key)
        assert registry is not None, "credentials were given, so the cache exists"
        return registry.mirror("ghcr.io/huggingface/text-generation-inference:3.3.7")

    return capture(build)


def test_aws_cloud_builds_from_its_args_alone() -> None:
    """EKS cluster, GPU node group and ECR pull-through cache, from AwsCloudArgs and no settings."""
    plan = _build_directly(
        lambda: AwsCloudArgs(
            region="eu-west-1",
            cluster_name="gpu-direct",
            pool=POOL,
            engine_image="ghcr.io/huggingface/text-generation-inference:3.3.7",
            tags={"team": "ml"},
            control_plane=EksControlPlaneArgs(kubernetes_version="1.36"),
            network=AwsNetworkArgs(cidr="10.20.0.0/16"),
            spot_fallbacks=(L4_BIGGER,),
            mirror_credentials=("octocat", pulumi.Output.secret("ghp_Tok3n")),
        )
    )
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


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: EksControlPlaneArgs(kubernetes_version="1.29"), "not a version EKS supports"),
        (lambda: EksControlPlaneArgs(private_endpoint=False), "needs authorized_cidrs"),
        (
            lambda: EksControlPlaneArgs(private_endpoint=False, authorized_cidrs=["0.0.0.0/0"]),
            "set allow_open_endpoint",
        ),
        (lambda: AwsNetworkArgs(private_subnet_ids=["subnet-0a"]), "without vpc_id"),
        (lambda: AwsNetworkArgs(vpc_id="vpc-0a", private_subnet_ids=["s-1"]), "two private"),
        (lambda: AwsNetworkArgs(cidr="8.8.0.0/16"), "not a private IPv4 range"),
        (lambda: AwsCloudArgs("", "llm", POOL, "img"), "region is empty"),
        (lambda: AwsCloudArgs("us-east-1", "Not_A_Label", POOL, "img"), "not a DNS label"),
        (
            lambda: AwsCloudArgs(
                "us-east-1",
                "llm",
                GpuPoolSpec(Shape(**{**L4.__dict__, "cloud": "gcp"}), 1, False, 0, 1),
                "img",
            ),
            "AwsCloud needs one of aws",
        ),
    ],
)
def test_args_refuse_what_aws_would_reject_with_a_plain_error(make: Any, words: str) -> None:
    """The library raises ValueError; turning it into a SettingsError is the program's job."""
    with pytest.raises(ValueError, match=words):
        make()


def test_open_endpoint_is_accepted_when_asked_for() -> None:
    """0.0.0.0/0 is an explicit, written choice, never a default."""
    args = EksControlPlaneArgs(
        private_endpoint=False, authorized_cidrs=["0.0.0.0/0"], allow_open_endpoint=True
    )
    assert list(args.authorized_cidrs) == ["0.0.0.0/0"]


def test_stack_settings_map_to_args_in_infra() -> None:
    """infra/cloud_args/aws.py resolves the stack file into plain values, fallbacks included."""
    dev = aws_args(parse("aws-dev", _dev_config()))
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
    _, prod_config, _ = read_stack_file(STACKS / "Pulumi.aws-prod.yaml")
    prod = aws_args(parse("aws-prod", prod_config))
    assert prod.spot_fallbacks == () and not prod.pool.spot
