"""Who may talk to the engine (NetworkPolicies) and how many engines run (a KEDA ScaledObject)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
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

if TYPE_CHECKING:
    from components.addons import Autoscaling
    from components.inference import InferenceSpec
    from infra.settings import StackSettings

Meta = Callable[..., ObjectMetaArgs]
# Namespaces whose pods may call the engine: label them `llmplane.io/client: "true"`.
CLIENT_LABEL = "llmplane.io/client"
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
# The instance metadata service hands out node credentials; the engine never needs it.
METADATA_IP = "169.254.169.254/32"
# Waiting requests per replica before KEDA adds one; ten minutes idle before it removes one.
QUEUE_PER_REPLICA = 4
COOLDOWN_SECONDS = 600


@dataclass(frozen=True)
class WakeSchedule:
    """Hours when at least `replicas` engines run, whatever the queue says (KEDA's cron scaler).

    This is what wakes a service that scaled to zero: at zero replicas no engine reports a queue,
    so the queue trigger alone would never bring one back.
    """

    timezone: str
    """IANA time zone the cron expressions are read in, e.g. Europe/Berlin."""
    start: str
    """Cron expression (5 fields) when the active hours begin."""
    end: str
    """Cron expression (5 fields) when they end."""
    replicas: int = 1
    """Engines kept running during the active hours."""


def wake_schedule(settings: StackSettings) -> WakeSchedule | None:
    """The stack's `replicas.activeHours` as KEDA's cron trigger reads them; None if unset."""
    hours = settings.replicas.active_hours
    if hours is None:
        return None
    return WakeSchedule(hours.timezone, hours.start, hours.end, hours.replicas)


def _namespace(name: str) -> LabelSelectorArgs:
    return LabelSelectorArgs(match_labels={"kubernetes.io/metadata.name": name})


def network_policies(
    name: str, spec: InferenceSpec, meta: Meta, opts: pulumi.ResourceOptions
) -> None:
    """Deny everything in the namespace, then open the few paths the engine needs."""
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
                namespace_selector=_namespace(spec.autoscaling.monitoring_namespace)
            )
        )
    if spec.gateway is not None:
        from components.gateway import gateway_labels

        callers.append(
            NetworkPolicyPeerArgs(
                pod_selector=LabelSelectorArgs(match_labels=gateway_labels(spec.labels))
            )
        )
    if spec.internal_lb_annotations is not None:
        # The internal load balancer delivers clients of the private network.
        callers += [NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=c)) for c in PRIVATE_RANGES]
    k8s.networking.v1.NetworkPolicy(
        f"{name}-engine",
        metadata=meta("inference-traffic"),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=spec.labels),
            policy_types=["Ingress", "Egress"],
            ingress=[NetworkPolicyIngressRuleArgs(from_=callers, ports=http)],
            egress=[
                NetworkPolicyEgressRuleArgs(
                    to=[NetworkPolicyPeerArgs(namespace_selector=_namespace("kube-system"))],
                    ports=[
                        NetworkPolicyPortArgs(port=53, protocol="UDP"),
                        NetworkPolicyPortArgs(port=53, protocol="TCP"),
                    ],
                ),
                # Weights and tokenizers come from the Hugging Face Hub over HTTPS.
                NetworkPolicyEgressRuleArgs(
                    to=[
                        NetworkPolicyPeerArgs(
                            ip_block=IPBlockArgs(cidr="0.0.0.0/0", except_=[METADATA_IP])
                        )
                    ],
                    ports=[NetworkPolicyPortArgs(port=443, protocol="TCP")],
                ),
            ],
        ),
        opts=opts,
    )


def queue_query(metric: str, namespace: pulumi.Input[str]) -> pulumi.Output[str]:
    """PromQL for the requests waiting across the engine's replicas."""
    return pulumi.Output.concat("sum(", metric, '{namespace="', namespace, '"})')


def scaled_object(
    name: str,
    spec: InferenceSpec,
    meta: Meta,
    deployment: k8s.apps.v1.Deployment,
    autoscaling: Autoscaling,
    parent: pulumi.Resource,
) -> k8s.apiextensions.CustomResource:
    """Scale on the engine's queue depth from Prometheus; never on CPU."""
    namespace = deployment.metadata.apply(lambda m: m.namespace or spec.namespace)
    trigger: Mapping[str, object] = {
        "type": "prometheus",
        "metadata": {
            "serverAddress": autoscaling.prometheus_url,
            "query": queue_query(spec.engine.queue_metric, namespace),
            "threshold": str(QUEUE_PER_REPLICA),
        },
    }
    triggers: list[Mapping[str, object]] = [trigger]
    if spec.wake is not None:
        triggers.append(
            {
                "type": "cron",
                "metadata": {
                    "timezone": spec.wake.timezone,
                    "start": spec.wake.start,
                    "end": spec.wake.end,
                    "desiredReplicas": str(spec.wake.replicas),
                },
            }
        )
    return k8s.apiextensions.CustomResource(
        f"{name}-scaler",
        api_version="keda.sh/v1alpha1",
        kind="ScaledObject",
        metadata=meta("inference"),
        spec={
            "scaleTargetRef": {"name": deployment.metadata.apply(lambda m: m.name)},
            "minReplicaCount": spec.min_replicas,
            "maxReplicaCount": spec.max_replicas,
            "cooldownPeriod": COOLDOWN_SECONDS,
            "pollingInterval": 15,
            "triggers": triggers,
        },
        opts=pulumi.ResourceOptions(parent=parent, depends_on=autoscaling.ready),
    )
