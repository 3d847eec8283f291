"""Cluster autoscaler for EKS: grows the GPU group from zero when inference pods are pending.

Chosen over Karpenter because the GPU pool is an EKS managed node group (launch template, AMI
updates and draining handled by EKS), which Karpenter replaces rather than drives, and because the
autoscaler is a plain Deployment with RBAC that the offline plan and the policies can see whole,
where Karpenter needs its Helm chart and CRDs.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import (
    CapabilitiesArgs,
    ConfigMapProjectionArgs,
    ContainerArgs,
    ContainerPortArgs,
    DownwardAPIProjectionArgs,
    DownwardAPIVolumeFileArgs,
    EnvVarArgs,
    HTTPGetActionArgs,
    KeyToPathArgs,
    ObjectFieldSelectorArgs,
    PodSecurityContextArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ProjectedVolumeSourceArgs,
    ResourceRequirementsArgs,
    SeccompProfileArgs,
    SecurityContextArgs,
    ServiceAccountTokenProjectionArgs,
    VolumeArgs,
    VolumeMountArgs,
    VolumeProjectionArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.rbac.v1 import PolicyRuleArgs, RoleRefArgs, SubjectArgs

from ..cloud import POOL_LABEL
from .account import Account
from .iam import irsa_role
from .iam_documents import cluster_autoscaler, to_json

__all__ = [
    "CLUSTER_RULES",
    "HEALTH_PORT",
    "IMAGES",
    "NAME",
    "NAMESPACE",
    "NAMESPACE_RULES",
    "TOKEN_DIR",
    "EksClusterAutoscaler",
    "EksClusterAutoscalerArgs",
    "api_token_volume",
]

NAME = "cluster-autoscaler"
NAMESPACE = "kube-system"
# registry.k8s.io tags promoted in kubernetes/k8s.io#9676 (2026-07-02), one per minor version.
IMAGES = {
    "1.35": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.35.1",
    "1.36": "registry.k8s.io/autoscaling/cluster-autoscaler:v1.36.0",
}

_READ = ["get", "list", "watch"]
CLUSTER_RULES = [
    PolicyRuleArgs(api_groups=[""], resources=["events", "endpoints"], verbs=["create", "patch"]),
    PolicyRuleArgs(api_groups=[""], resources=["pods/eviction"], verbs=["create"]),
    PolicyRuleArgs(api_groups=[""], resources=["pods/status"], verbs=["update"]),
    PolicyRuleArgs(
        api_groups=[""], resources=["endpoints"], resource_names=[NAME], verbs=["get", "update"]
    ),
    PolicyRuleArgs(api_groups=[""], resources=["nodes"], verbs=[*_READ, "update"]),
    PolicyRuleArgs(
        api_groups=[""],
        resources=[
            "namespaces",
            "pods",
            "services",
            "replicationcontrollers",
            "persistentvolumeclaims",
            "persistentvolumes",
        ],
        verbs=_READ,
    ),
    PolicyRuleArgs(
        api_groups=["apps"], resources=["statefulsets", "replicasets", "daemonsets"], verbs=_READ
    ),
    PolicyRuleArgs(api_groups=["policy"], resources=["poddisruptionbudgets"], verbs=_READ),
    PolicyRuleArgs(
        api_groups=["storage.k8s.io"],
        resources=[
            "storageclasses",
            "csinodes",
            "csidrivers",
            "csistoragecapacities",
            "volumeattachments",
        ],
        verbs=_READ,
    ),
    PolicyRuleArgs(api_groups=["batch"], resources=["jobs", "cronjobs"], verbs=_READ),
    PolicyRuleArgs(
        api_groups=["resource.k8s.io"],
        resources=["resourceclaims", "resourceslices", "deviceclasses"],
        verbs=_READ,
    ),
    PolicyRuleArgs(api_groups=["coordination.k8s.io"], resources=["leases"], verbs=["create"]),
    PolicyRuleArgs(
        api_groups=["coordination.k8s.io"],
        resources=["leases"],
        resource_names=[NAME],
        verbs=["get", "update"],
    ),
]
NAMESPACE_RULES = [
    PolicyRuleArgs(api_groups=[""], resources=["configmaps"], verbs=["create", "list", "watch"]),
    PolicyRuleArgs(
        api_groups=[""],
        resources=["configmaps"],
        resource_names=["cluster-autoscaler-status"],
        verbs=["delete", "get", "update", "watch"],
    ),
]


# cluster-autoscaler serves /health-check on its metrics address (default :8085).
HEALTH_PORT = 8085
TOKEN_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"


def _health() -> ProbeArgs:
    return ProbeArgs(
        http_get=HTTPGetActionArgs(path="/health-check", port="health"), period_seconds=30
    )


def api_token_volume() -> VolumeArgs:
    """A one-hour, auto-rotated API token, CA and namespace: what automounting would provide."""
    return VolumeArgs(
        name="api-token",
        projected=ProjectedVolumeSourceArgs(
            sources=[
                VolumeProjectionArgs(
                    service_account_token=ServiceAccountTokenProjectionArgs(
                        path="token", expiration_seconds=3600
                    )
                ),
                VolumeProjectionArgs(
                    config_map=ConfigMapProjectionArgs(
                        name="kube-root-ca.crt", items=[KeyToPathArgs(key="ca.crt", path="ca.crt")]
                    )
                ),
                VolumeProjectionArgs(
                    downward_api=DownwardAPIProjectionArgs(
                        items=[
                            DownwardAPIVolumeFileArgs(
                                path="namespace",
                                field_ref=ObjectFieldSelectorArgs(field_path="metadata.namespace"),
                            )
                        ]
                    )
                ),
            ]
        ),
    )


@dataclass(frozen=True, kw_only=True)
class EksClusterAutoscalerArgs:
    """The EKS cluster whose tagged Auto Scaling groups the autoscaler grows and shrinks."""

    cluster_name: pulumi.Input[str]
    """The EKS cluster's name, which the groups' auto-discovery tags name."""
    region: str
    """The cluster's AWS region."""
    kubernetes_version: str
    """The cluster's minor version; the autoscaler's must match it."""
    oidc_provider_arn: pulumi.Input[str]
    """The cluster's IAM OIDC provider, which the autoscaler's IRSA role trusts."""
    oidc_issuer: pulumi.Input[str]
    """The cluster's OIDC issuer URL."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Tags on the IAM role."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the Kubernetes objects wait for: the nodes the autoscaler itself runs on."""

    def __post_init__(self) -> None:
        """Refuse a version with no autoscaler release or an empty region, naming the field."""
        if self.kubernetes_version not in IMAGES:
            raise ValueError(
                f"kubernetes_version {self.kubernetes_version} has no cluster-autoscaler image;"
                f" use one of: {', '.join(IMAGES)}"
            )
        if not self.region:
            raise ValueError("region is empty; name the AWS region, e.g. us-east-1")


class EksClusterAutoscaler(pulumi.ComponentResource):
    """The cluster autoscaler, on the system nodes, with an IRSA role scoped to this cluster."""

    role_arn: pulumi.Output[str]
    """The IRSA role the autoscaler runs as."""

    def __init__(
        self,
        name: str,
        args: EksClusterAutoscalerArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        """`<name>-autoscaler`: role, policy, ServiceAccount, RBAC and the Deployment.

        The Kubernetes objects use the `kubernetes` provider that `opts` gives (provider or
        providers), as any child of a component does.
        """
        super().__init__("llmplane:aws:ClusterAutoscaler", name, None, opts)
        role = irsa_role(
            f"{name}-autoscaler",
            args.oidc_provider_arn,
            args.oidc_issuer,
            NAMESPACE,
            NAME,
            args.tags,
            self,
        )
        account = Account.lookup(args.region, self)
        region = args.region
        aws.iam.RolePolicy(
            f"{name}-autoscaler",
            role=role.id,
            policy=pulumi.Output.all(account.partition, account.id, args.cluster_name).apply(
                lambda values: to_json(cluster_autoscaler(values[0], region, values[1], values[2]))
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        k8s_opts = pulumi.ResourceOptions(parent=self, depends_on=list(args.depends_on))
        _kubernetes_objects(
            name,
            role.arn,
            pulumi.Output.from_input(args.cluster_name),
            region,
            args.kubernetes_version,
            k8s_opts,
        )
        self.role_arn = role.arn
        self.register_outputs({"roleArn": self.role_arn})


def _kubernetes_objects(
    name: str,
    role_arn: pulumi.Output[str],
    cluster_name: pulumi.Output[str],
    region: str,
    version: str,
    k8s_opts: pulumi.ResourceOptions,
) -> k8s.apps.v1.Deployment:
    """The ServiceAccount, RBAC and Deployment of the autoscaler."""
    labels = {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "llmplane"}
    meta = ObjectMetaArgs(name=NAME, namespace=NAMESPACE, labels=labels)
    account_ = k8s.core.v1.ServiceAccount(
        f"{name}-autoscaler",
        metadata=ObjectMetaArgs(
            name=NAME,
            namespace=NAMESPACE,
            labels=labels,
            annotations={"eks.amazonaws.com/role-arn": role_arn},
        ),
        opts=k8s_opts,
    )
    subject = SubjectArgs(kind="ServiceAccount", name=NAME, namespace=NAMESPACE)
    cluster_role = k8s.rbac.v1.ClusterRole(
        f"{name}-autoscaler",
        metadata=ObjectMetaArgs(name=NAME, labels=labels),
        rules=CLUSTER_RULES,
        opts=k8s_opts,
    )
    k8s.rbac.v1.ClusterRoleBinding(
        f"{name}-autoscaler",
        metadata=ObjectMetaArgs(name=NAME, labels=labels),
        role_ref=RoleRefArgs(
            api_group="rbac.authorization.k8s.io",
            kind="ClusterRole",
            name=cluster_role.metadata.name,
        ),
        subjects=[subject],
        opts=k8s_opts,
    )
    role_ = k8s.rbac.v1.Role(
        f"{name}-autoscaler", metadata=meta, rules=NAMESPACE_RULES, opts=k8s_opts
    )
    k8s.rbac.v1.RoleBinding(
        f"{name}-autoscaler",
        metadata=meta,
        role_ref=RoleRefArgs(
            api_group="rbac.authorization.k8s.io", kind="Role", name=role_.metadata.name
        ),
        subjects=[subject],
        opts=k8s_opts,
    )
    discovery = "asg:tag=k8s.io/cluster-autoscaler/enabled,k8s.io/cluster-autoscaler/"
    return k8s.apps.v1.Deployment(
        f"{name}-autoscaler",
        metadata=meta,
        spec=DeploymentSpecArgs(
            replicas=1,
            selector=LabelSelectorArgs(match_labels=labels),
            template=PodTemplateSpecArgs(
                metadata=ObjectMetaArgs(labels=labels),
                spec=PodSpecArgs(
                    service_account_name=account_.metadata.name,
                    # It does call the API, with a token mounted explicitly below instead: the
                    # same files automounting would give, but visible and bounded.
                    automount_service_account_token=False,
                    volumes=[api_token_volume()],
                    priority_class_name="system-cluster-critical",
                    node_selector={POOL_LABEL: "system"},
                    security_context=PodSecurityContextArgs(
                        run_as_non_root=True,
                        run_as_user=65534,
                        run_as_group=65534,
                        fs_group=65534,
                        seccomp_profile=SeccompProfileArgs(type="RuntimeDefault"),
                    ),
                    containers=[
                        ContainerArgs(
                            name=NAME,
                            image=IMAGES[version],
                            command=["./cluster-autoscaler"],
                            args=cluster_name.apply(
                                lambda cluster: [
                                    "--cloud-provider=aws",
                                    f"--node-group-auto-discovery={discovery}{cluster}",
                                    "--balance-similar-node-groups",
                                    "--skip-nodes-with-system-pods=false",
                                    # A GPU node idle this long is released: it costs by the hour.
                                    "--scale-down-unneeded-time=10m",
                                    "--expander=least-waste",
                                ]
                            ),
                            env=[EnvVarArgs(name="AWS_REGION", value=region)],
                            image_pull_policy="Always",
                            ports=[ContainerPortArgs(name="health", container_port=HEALTH_PORT)],
                            liveness_probe=_health(),
                            readiness_probe=_health(),
                            volume_mounts=[
                                VolumeMountArgs(
                                    name="api-token", mount_path=TOKEN_DIR, read_only=True
                                )
                            ],
                            resources=ResourceRequirementsArgs(
                                requests={"cpu": "100m", "memory": "600Mi"},
                                limits={"cpu": "100m", "memory": "600Mi"},
                            ),
                            security_context=SecurityContextArgs(
                                allow_privilege_escalation=False,
                                read_only_root_filesystem=True,
                                capabilities=CapabilitiesArgs(drop=["ALL"]),
                            ),
                        )
                    ],
                ),
            ),
        ),
        opts=k8s_opts,
    )
