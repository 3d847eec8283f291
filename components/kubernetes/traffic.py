"""Who may talk to the engine (NetworkPolicies) and how many engines run (a KEDA ScaledObject)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from .addons import INTERCEPTOR_LABELS
from .pod import CLIENT_LABEL, INSTANCE_LABEL

if TYPE_CHECKING:
    from .activator import HeldRoute
    from .service_spec import AutoscalingArgs, ServiceSpec
    from .streamer import StreamerPlan

__all__ = [
    "CLIENT_LABEL",
    "COOLDOWN_SECONDS",
    "INSTANCE_METRIC_LABEL",
    "METADATA_IP",
    "PRIVATE_RANGES",
    "QUEUE_PER_REPLICA",
    "Meta",
    "dns_and_https_egress",
    "network_policies",
    "queue_query",
    "scaled_object",
]

Meta = Callable[..., ObjectMetaArgs]
# Namespaces whose pods may call the engine: label them `llmplane.io/client: "true"`.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
# The instance metadata service hands out node credentials; the engine never needs it.
METADATA_IP = "169.254.169.254/32"
# Waiting requests per replica before KEDA adds one; ten minutes idle before it removes one.
QUEUE_PER_REPLICA = 4
COOLDOWN_SECONDS = 600
# The Prometheus chart's kubernetes-pods job copies pod labels onto the series it scrapes
# (labelmap __meta_kubernetes_pod_label_(.+)), with `.` and `/` turned into `_`.
INSTANCE_METRIC_LABEL = "app_kubernetes_io_instance"


def _namespace(name: pulumi.Input[str]) -> LabelSelectorArgs:
    return LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": name})


def network_policies(
    spec: ServiceSpec, meta: Meta, opts: pulumi.ResourceOptions, held: HeldRoute | None = None
) -> None:
    """Deny everything in a namespace the service owns, then open the paths the engine needs.

    With `held` (from activator.hold_requests), KEDA's interceptor forwards the requests it held.
    """
    name = spec.name
    if spec.create_namespace:
        # Only in a namespace it created: in one it shares, a namespace-wide deny would cut off
        # other workloads. Its own pods are isolated either way, by the policies that select them.
        k8s.networking.v1.NetworkPolicy(
            f"{name}-deny-all",
            metadata=meta("default-deny"),
            spec=NetworkPolicySpecArgs(
                pod_selector=LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
            ),
            opts=opts,
        )
    http = [NetworkPolicyPortArgs(port="http", protocol="TCP")]
    callers = [
        NetworkPolicyPeerArgs(
            namespace_selector=LabelSelectorArgs(match_labels={CLIENT_LABEL: "true"})
        )
    ]
    if spec.autoscaling is not None:
        callers.append(
            NetworkPolicyPeerArgs(
                namespace_selector=_namespace(spec.autoscaling["monitoring_namespace"])
            )
        )
    if spec.gateway is not None:
        from .gateway import gateway_labels

        callers.append(
            NetworkPolicyPeerArgs(
                pod_selector=LabelSelectorArgs(match_labels=spec.labels.apply(gateway_labels))
            )
        )
    if held is not None:
        callers.append(
            NetworkPolicyPeerArgs(
                namespace_selector=_namespace(held.namespace),
                pod_selector=LabelSelectorArgs(match_labels=INTERCEPTOR_LABELS),
            )
        )
    if spec.internal_load_balancer is not None:
        # The internal load balancer delivers clients of the private network.
        callers += [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=c)) for c in PRIVATE_RANGES]
    egress = dns_and_https_egress()
    k8s.networking.v1.NetworkPolicy(
        f"{name}-engine",
        metadata=meta(spec.object_name("traffic")),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=spec.labels),
            policy_types=["Ingress", "Egress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=callers, ports=http)],
            egress=_with_bucket_egress(spec, egress),
        ),
        opts=opts,
    )


def dns_and_https_egress() -> list[NetworkPolicyEgressRuleArgs]:
    """DNS from kube-system, and HTTPS anywhere but the node's metadata address.

    What a pod that downloads weights and tokenizers from the Hugging Face Hub (and its CDN)
    needs, and never the node's own cloud credentials.
    """
    return [
        NetworkPolicyEgressRuleArgs(
            to=[NetworkPolicyPeerArgs(namespace_selector=_namespace("kube-system"))],
            ports=[
                NetworkPolicyPortArgs(port=53, protocol="UDP"),
                NetworkPolicyPortArgs(port=53, protocol="TCP"),
            ],
        ),
        NetworkPolicyEgressRuleArgs(
            to=[
                NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr="0.0.0.0/0", except_=[METADATA_IP]))
            ],
            ports=[NetworkPolicyPortArgs(port=443, protocol="TCP")],
        ),
    ]


def queue_query(
    metric: str, namespace: pulumi.Input[str], instance: pulumi.Input[str]
) -> pulumi.Output[str]:
    """PromQL for the requests waiting across this service's replicas, and no other's."""
    return pulumi.Output.concat(
        "sum(",
        metric,
        '{namespace="',
        namespace,
        '",',
        INSTANCE_METRIC_LABEL,
        '="',
        instance,
        '"})',
    )


def scaled_object(
    spec: ServiceSpec,
    autoscaling: AutoscalingArgs,
    meta: Meta,
    deployment: k8s.apps.v1.Deployment,
    parent: pulumi.Resource,
    held: HeldRoute | None = None,
) -> k8s.apiextensions.CustomResource:
    """Scale on the engine's queue depth from Prometheus; never on CPU.

    With `held`, requests the interceptor holds wake the engine too: at zero replicas no engine
    reports a queue, but the add-on's scaler counts what waits for one.
    """
    namespace = deployment.metadata.apply(lambda m: m.namespace or "")
    instance = spec.labels.apply(lambda labels: labels[INSTANCE_LABEL])
    trigger: Mapping[str, object] = {
        "type": "prometheus",
        "metadata": {
            # An Output of the KEDA install here makes the ScaledObject wait for KEDA's CRDs.
            "serverAddress": autoscaling["prometheus_url"],
            "query": queue_query(spec.engine.queue_metric, namespace, instance),
            "threshold": str(QUEUE_PER_REPLICA),
        },
    }
    triggers: list[Mapping[str, object]] = [trigger]
    if spec.wake is not None:
        triggers.append(
            {
                "type": "cron",
                "metadata": {
                    "timezone": spec.wake["timezone"],
                    "start": spec.wake["start"],
                    "end": spec.wake["end"],
                    "desiredReplicas": str(spec.wake.get("replicas", 1)),
                },
            }
        )
    if held is not None:
        triggers.append(held.trigger)
    return k8s.apiextensions.CustomResource(
        f"{spec.name}-scaler",
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata=meta(spec.object_name()),
        spec={
            "scaleTargetRef": {"name": deployment.metadata.apply(lambda m: m.name)},
            "minReplicaCount": spec.min_replicas,
            "maxReplicaCount": spec.max_replicas,
            "cooldownPeriod": COOLDOWN_SECONDS,
            "pollingInterval": 15,
            "triggers": triggers,
        },
        opts=pulumi.ResourceOptions(parent=parent),
    )


# GKE's metadata server, where Workload Identity hands a pod its Google credentials: allowed only
# for a gs:// bucket, since on EKS and AKS the same address would hand out node credentials.
# https://cloud.google.com/kubernetes-engine/docs/how-to/network-policy ("Requirements and
# limitations": with Workload Identity, allow 169.254.169.252/32 port 988; on Dataplane V2,
# 169.254.169.254/32 port 80).
GKE_METADATA = (("169.254.169.252/32", 988), ("169.254.169.254/32", 80))


def _with_bucket_egress(
    spec: ServiceSpec, egress: list[NetworkPolicyEgressRuleArgs]
) -> pulumi.Input[list[NetworkPolicyEgressRuleArgs]]:
    """The engine's egress, plus GKE's metadata server when it streams weights from gs://."""
    if spec.streamer is None:
        return egress

    def rules(plan: StreamerPlan) -> list[NetworkPolicyEgressRuleArgs]:
        if not plan.model.startswith("gs://"):
            # S3 and Blob are HTTPS, already open; IRSA and Entra tokens come over HTTPS too.
            return egress
        return [
            *egress,
            *(
                NetworkPolicyEgressRuleArgs(
                    to=[NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=cidr))],
                    ports=[NetworkPolicyPortArgs(port=port, protocol="TCP")],
                )
                for cidr, port in GKE_METADATA
            ),
        ]

    return spec.streamer.apply(rules)
