"""Scale to zero that holds requests: a workload KEDA may scale to zero has something to wait in."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from . import Config, Rule, StackResource, dig, items, stack_rule, truthy
from .selection import namespace_of

Found = Iterator[tuple[str, str | None]]
SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
HTTP_SCALED_OBJECT = "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject"
# KEDA's HTTP add-on (kedacore/http-add-on 0.15.0): with this annotation its operator leaves the
# ScaledObject to the user, whose external-push trigger must then name the HTTPScaledObject. The
# names are the add-on's; llmplane's components use the same (a test keeps them equal).
SKIP_SCALED_OBJECT = "httpscaledobject.keda.sh/skip-scaledobject-creation"
PUSH_TRIGGER = "external-push"
HELD_OBJECT_KEY = "httpScaledObject"
# The add-on's successor to the HTTPScaledObject (0.14+) is routed by an InterceptorRoute, which
# the same trigger names under this key (scaler/handlers.go); its ScaledObject is always the user's.
ROUTE_KEY = "interceptorRoute"


def _scales_to_zero(scaler: StackResource) -> bool:
    """KEDA's minReplicaCount defaults to 0; idleReplicaCount 0 also empties it when idle."""
    props = scaler.props
    return dig(props, "spec.minReplicaCount", 0) == 0 or dig(props, "spec.idleReplicaCount") == 0


def _target(resource: StackResource) -> tuple[str, str, str]:
    """(namespace, kind, name) of the workload a scaler's scaleTargetRef names."""
    ref = dig(resource.props, "spec.scaleTargetRef") or {}
    return namespace_of(resource), str(dig(ref, "kind", "Deployment")), str(dig(ref, "name"))


@stack_rule(
    "scale-to-zero-holds-requests",
    description="A workload KEDA may scale to zero has KEDA's HTTP add-on in front, so a request "
    "that arrives at zero replicas waits for one instead of failing.",
    severity="high",
    frameworks=("LLMPLANE-GPU-11",),
    remediation="Give the service llmplane's activator (the HTTP add-on: an HTTPScaledObject for "
    "the workload and an external-push trigger naming it), or keep a replica: replicas.min 1.",
)
def holds_requests(resources: Sequence[StackResource], config: Config) -> Found:
    """At zero replicas a Service has no endpoint: every request is refused until one starts."""
    held: dict[tuple[str, str, str], list[StackResource]] = defaultdict(list)
    for resource in resources:
        if resource.type == HTTP_SCALED_OBJECT:
            held[_target(resource)].append(resource)
    for scaler in resources:
        if scaler.type != SCALED_OBJECT or not _scales_to_zero(scaler):
            continue
        namespace, kind, name = target = _target(scaler)
        pushed = [
            trigger
            for trigger in items(dig(scaler.props, "spec.triggers"))
            if dig(trigger, "type") == PUSH_TRIGGER
        ]
        named = {dig(trigger, f"metadata.{HELD_OBJECT_KEY}") for trigger in pushed} - {None}
        routed = {dig(trigger, f"metadata.{ROUTE_KEY}") for trigger in pushed} - {None}
        objects = held.get(target, [])
        if not objects and not named and not routed:
            yield (
                f"{scaler.name}: {kind} {namespace}/{name} may scale to zero, and nothing holds "
                "its requests meanwhile (no HTTPScaledObject for it, no external-push trigger "
                "to KEDA's HTTP add-on)",
                scaler.urn,
            )
            continue
        for http in objects:
            http_name = dig(http.props, "metadata.name")
            skipped = truthy(dig(http.props, "metadata.annotations", {}).get(SKIP_SCALED_OBJECT))
            if skipped and http_name not in named:
                yield (
                    f"{scaler.name}: HTTPScaledObject {http_name} holds the requests of {kind} "
                    f"{namespace}/{name}, but no external-push trigger names it, so none of "
                    "them wakes it",
                    scaler.urn,
                )


RULES: tuple[Rule, ...] = (holds_requests,)
