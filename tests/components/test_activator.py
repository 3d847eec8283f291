"""Scale from zero with requests held: KEDA's HTTP add-on, its HTTPScaledObject, and the wiring."""
# No `from __future__ import annotations`: the analyzer test below reads _ProbeArgs' annotations
# at run time, as Pulumi's component analyzer reads InferenceServiceArgs'.

from typing import Any, NotRequired, TypedDict

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.provider.experimental.analyzer import Analyzer

from llmplane.components.kubernetes.activator import (
    API_VERSION,
    DIAL_RETRY_SECONDS,
    KIND,
    SKIP_SCALED_OBJECT,
    ScaleFromZeroArgs,
    check_scale_from_zero,
    longest_wait_seconds,
)
from llmplane.components.kubernetes.addons import (
    DRAIN_SECONDS,
    HTTP_ADD_ON_CHART,
    INTERCEPTOR_LABELS,
    KEDA_CHART,
    KEDA_NAMESPACE,
    RESPONSE_HEADER_SECONDS,
    KedaAutoscaling,
    KedaAutoscalingArgs,
    http_add_on_values,
)
from llmplane.components.kubernetes.gateway import READ_TIMEOUT_SECONDS, nginx_config
from tests.components.direct import capture
from tests.components.held import HOLD_SECONDS, held_plan
from tests.plans import Plan, of_type, one

RELEASE = "kubernetes:helm.sh/v3:Release"
HELD = f"kubernetes:{API_VERSION}:{KIND}"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
INTERCEPTOR = "keda-add-ons-http-interceptor-proxy.keda.svc.cluster.local"
SCALER_ADDRESS = "keda-add-ons-http-external-scaler.keda:9090"
ENGINE_HOST = "llm.llm.svc.cluster.local"


@pytest.fixture(scope="module")
def held() -> Plan:
    plan, _ = held_plan()
    return plan


# The cluster-wide half: the add-on's release.


def test_the_add_on_is_off_unless_asked_for() -> None:
    handles: dict[str, Any] = {}
    plan = capture(lambda: handles.setdefault("scaling", KedaAutoscaling("scale")))
    assert {r["name"] for r in of_type(plan, RELEASE)} == {"scale-keda", "scale-prometheus"}
    assert handles["scaling"].handle.activator is None


def test_the_add_on_is_pinned_atomic_and_installed_after_keda_in_its_namespace() -> None:
    handles: dict[str, Any] = {}

    def build() -> None:
        cluster = k8s.Provider("theirs", context="lab")
        args = KedaAutoscalingArgs(hold_requests=True, hold_seconds=HOLD_SECONDS)
        on = pulumi.ResourceOptions(providers=[cluster])
        handles["scaling"] = KedaAutoscaling("scale", args, opts=on)

    plan = capture(build)
    add_on = one(plan, RELEASE, "scale-http-add-on")
    keda = one(plan, RELEASE, "scale-keda")
    inputs = add_on["inputs"]
    assert (inputs["chart"], inputs["version"], inputs["repositoryOpts"]["repo"]) == (
        HTTP_ADD_ON_CHART
    )
    assert inputs["name"] == "keda-add-ons-http"  # the Services' names start with it
    assert inputs["atomic"] is True
    assert inputs["namespace"] == keda["inputs"]["namespace"] == KEDA_NAMESPACE
    assert keda["urn"] in add_on["dependencies"]
    assert add_on["parent"] == one(plan, "llmplane:kubernetes:KedaAutoscaling")["urn"]
    assert add_on["provider"] == one(plan, "pulumi:providers:kubernetes", "theirs")["urn"]
    # KEDA's namespace is created once, by KEDA's release.
    assert [r["name"] for r in of_type(plan, "kubernetes:core/v1:Namespace")] == [
        "scale-keda-ns",
        "scale-prometheus-ns",
    ]
    activator = handles["scaling"].handle.activator
    assert activator is not None
    assert activator.interceptor_host == INTERCEPTOR
    assert (activator.interceptor_port, activator.namespace) == (8080, KEDA_NAMESPACE)
    assert activator.scaler_address == SCALER_ADDRESS
    assert activator.hold_seconds == HOLD_SECONDS
    # KEDA's release and the add-on's (the HTTPScaledObject test sees its dependency on them).
    assert len(activator.ready) == 2
    # The pair the add-on's own e2e suite runs (0.15.0 with KEDA chart 2.20.x).
    assert (KEDA_CHART[1], HTTP_ADD_ON_CHART[1]) == ("2.20.2", "0.15.0")


def test_the_add_on_holds_for_the_budget_and_runs_confined() -> None:
    values: dict[str, Any] = http_add_on_values(1800)
    interceptor = values["interceptor"]
    assert interceptor == {
        "readinessTimeout": "1800s",
        "responseHeaderTimeout": f"{RESPONSE_HEADER_SECONDS}s",
        "drainTimeout": f"{DRAIN_SECONDS}s",
        "terminationGracePeriodSeconds": 5 + DRAIN_SECONDS + 10,
    }
    # No whole-request deadline (it would cut long streams), no dial workaround, and none of
    # chart 0.11's names: `replicas.waitTimeout` is only a deprecated fallback in 0.15.0.
    assert not {"requestTimeout", "tcpConnectTimeout", "replicas"} & set(interceptor)
    assert set(values) == {"interceptor", "podSecurityContext", "securityContext"}
    for part in ("operator", "scaler", "interceptor"):
        pod = values["podSecurityContext"][part]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 65532
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}
    # Chart 0.15.0 has no kube-rbac-proxy sidecar, so no override for one.
    assert set(values["securityContext"]) == {"operator", "scaler", "interceptor"}
    for container in values["securityContext"].values():
        assert container["allowPrivilegeEscalation"] is False
        assert container["readOnlyRootFilesystem"] is True
        assert container["capabilities"] == {"drop": ["ALL"]}


def test_a_hold_of_no_time_is_refused() -> None:
    with pytest.raises(ValueError, match="hold_seconds must be at least 1, not 0"):
        capture(lambda: KedaAutoscaling("scale", KedaAutoscalingArgs(True, 0)))


# The per-service half: the HTTPScaledObject and what reads the route.


def test_a_service_at_zero_gets_an_http_scaled_object_for_its_engine(held: Plan) -> None:
    obj = one(held, HELD)
    meta, spec = obj["inputs"]["metadata"], obj["inputs"]["spec"]
    assert (obj["inputs"]["apiVersion"], obj["inputs"]["kind"]) == (API_VERSION, KIND)
    assert meta["name"] == "llm-held" and meta["namespace"] == "llm"
    assert meta["annotations"] == {SKIP_SCALED_OBJECT: "true"}
    assert spec["hosts"] == [ENGINE_HOST]
    assert spec["scaleTargetRef"] == {
        "name": "llm",
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        # The engine's own Service: `llm` is the front door, an alias of the interceptor.
        "service": "llm-engine",
        "portName": "http",
    }
    assert spec["timeouts"] == {
        "conditionWait": f"{HOLD_SECONDS}s",
        "responseHeader": f"{RESPONSE_HEADER_SECONDS}s",
    }
    assert spec["replicas"] == {"min": 0, "max": 2}
    # It waits for the add-on's release, which brings its CRD.
    assert one(held, RELEASE, "scale-http-add-on")["urn"] in obj["dependencies"]


def test_the_scaled_object_wakes_on_held_requests_the_queue_and_the_clock(held: Plan) -> None:
    scaler = one(held, SCALER)
    spec = scaler["inputs"]["spec"]
    assert spec["minReplicaCount"] == 0
    assert [t["type"] for t in spec["triggers"]] == ["prometheus", "cron", "external-push"]
    http = spec["triggers"][2]
    assert http["metadata"] == {"scalerAddress": SCALER_ADDRESS, "httpScaledObject": "llm-held"}
    # The operator deletes a ScaledObject named like the HTTPScaledObject as its own.
    assert scaler["inputs"]["metadata"]["name"] != "llm-held"
    held_object = one(held, HELD)
    assert held_object["urn"] in scaler["dependencies"]
    assert spec["scaleTargetRef"]["name"] == held_object["inputs"]["spec"]["scaleTargetRef"]["name"]


def test_the_interceptor_may_reach_the_engine(held: Plan) -> None:
    engine = one(held, POLICY, "llm-engine")["inputs"]["spec"]
    (rule,) = engine["ingress"]
    interceptor = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": KEDA_NAMESPACE}},
        "podSelector": {"matchLabels": INTERCEPTOR_LABELS},
    }
    assert interceptor in rule["from"]
    assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_the_gateway_goes_through_the_interceptor_with_the_engines_host(held: Plan) -> None:
    config = one(held, CONFIG_MAP, "llm-gateway-config")["inputs"]["data"]["default.conf"]
    assert f"proxy_pass http://{INTERCEPTOR}:8080;" in config
    assert f"proxy_set_header Host {ENGINE_HOST};" in config
    # Streams stay unbuffered, and nginx outwaits the interceptor.
    assert "proxy_buffering off;" in config
    timeout = longest_wait_seconds(HOLD_SECONDS)
    assert f"proxy_read_timeout {timeout}s;" in config
    assert timeout == HOLD_SECONDS + DIAL_RETRY_SECONDS + RESPONSE_HEADER_SECONDS
    assert timeout > READ_TIMEOUT_SECONDS
    egress = one(held, POLICY, "llm-gateway-traffic")["inputs"]["spec"]["egress"]
    upstream = egress[0]
    assert upstream["to"] == [
        {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": KEDA_NAMESPACE}},
            "podSelector": {"matchLabels": INTERCEPTOR_LABELS},
        }
    ]
    assert upstream["ports"] == [{"port": 8080, "protocol": "TCP"}]
    # Only the interceptor: nginx no longer needs the engine's pods.
    assert not any("podSelector" in peer and "namespaceSelector" not in peer
                   for rule in egress for peer in rule.get("to", []))  # fmt: skip


def test_the_interceptor_routes_the_host_nginx_sends(held: Plan) -> None:
    """The add-on's routing key is the Host without its port (pkg/routing/key.go)."""
    config = one(held, CONFIG_MAP, "llm-gateway-config")["inputs"]["data"]["default.conf"]
    (line,) = [text for text in config.splitlines() if "proxy_set_header Host" in text]
    sent = line.split()[-1].rstrip(";")
    assert sent.split(":")[0] in one(held, HELD)["inputs"]["spec"]["hosts"]


@pytest.mark.parametrize("host", ["llm.llm.svc.cluster.local; return 200", "LLM.example", ""])
def test_only_a_dns_name_becomes_the_host_header(host: str) -> None:
    with pytest.raises(ValueError, match="is not a DNS name"):
        nginx_config("http://interceptor:8080", host)


def test_a_per_service_hold_overrides_the_clusters() -> None:
    plan, _ = held_plan(hold_seconds=600)
    spec = one(plan, HELD)["inputs"]["spec"]
    assert spec["timeouts"]["conditionWait"] == "600s"


@pytest.mark.parametrize(("min_replicas", "with_activator"), [(1, True), (0, False)])
def test_nothing_is_held_unless_the_service_scales_to_zero_with_an_activator(
    min_replicas: int, with_activator: bool
) -> None:
    plan, _ = held_plan(min_replicas=min_replicas, with_activator=with_activator)
    assert "llm-front" not in {r["name"] for r in plan["resources"]}
    assert of_type(plan, HELD) == []
    triggers = one(plan, SCALER)["inputs"]["spec"]["triggers"]
    assert "external-push" not in {t["type"] for t in triggers}
    config = one(plan, CONFIG_MAP, "llm-gateway-config")["inputs"]["data"]["default.conf"]
    assert "proxy_pass http://llm.llm.svc.cluster.local:80;" in config
    assert "proxy_set_header Host" not in config
    assert f"proxy_read_timeout {READ_TIMEOUT_SECONDS}s;" in config


HOLD = ScaleFromZeroArgs(
    interceptor_host=INTERCEPTOR,
    interceptor_port=8080,
    interceptor_namespace=KEDA_NAMESPACE,
    scaler_address=SCALER_ADDRESS,
)


@pytest.mark.parametrize(
    ("hold", "autoscaling", "words"),
    [
        (HOLD, False, "scale_from_zero needs autoscaling"),
        ({**HOLD, "hold_seconds": 0}, True, "hold_seconds must be at least 1, not 0"),
        ({**HOLD, "interceptor_port": 0}, True, "interceptor_port must be 1 to 65535, not 0"),
    ],
)
def test_args_the_add_on_would_refuse_fail_with_a_clear_message(
    hold: ScaleFromZeroArgs, autoscaling: bool, words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        check_scale_from_zero("llm", hold, autoscaling)
    check_scale_from_zero("llm", None, autoscaling)  # nothing to check without one


def test_pulumis_component_analyzer_reads_the_scale_from_zero_args() -> None:
    """The field the lead adds to InferenceServiceArgs: typed, described, plain where it must."""
    result = Analyzer("llmplane").analyze([_Probe])
    types = result["type_definitions"]
    held = types["ScaleFromZeroArgs"]
    assert held.description
    assert set(held.properties) == {
        "interceptorHost",
        "interceptorPort",
        "interceptorNamespace",
        "scalerAddress",
        "holdSeconds",
    }
    assert all(prop.description for prop in held.properties.values())
    assert held.properties["holdSeconds"].optional
    assert held.properties["interceptorPort"].plain is True
    assert held.properties["interceptorHost"].plain is None  # an Input: it may be an Output
    assert not result["dependencies"]


class _ProbeArgs(TypedDict):
    """Only what the analyzer needs to reach ScaleFromZeroArgs."""

    scale_from_zero: NotRequired[ScaleFromZeroArgs]
    """KEDA's HTTP add-on, which holds requests while no engine runs."""


class _Probe(pulumi.ComponentResource):
    """A component whose args hold ScaleFromZeroArgs, as InferenceServiceArgs will."""

    def __init__(self, name: str, args: _ProbeArgs, opts: pulumi.ResourceOptions | None = None):
        super().__init__("llmplane:index:Probe", name, None, opts)
        self.register_outputs({})


def test_callers_reach_a_held_service_through_its_front_door(held: Plan) -> None:
    # Its own name resolves to the interceptor, so an in-cluster call at zero replicas is held
    # too, not only the gateway's; the Host it sends is the name the route matches.
    front = one(held, "kubernetes:core/v1:Service", "llm-front")["inputs"]
    assert front["metadata"]["name"] == "llm"
    assert front["spec"]["type"] == "ExternalName"
    assert front["spec"]["externalName"] == INTERCEPTOR
    assert one(held, HELD)["inputs"]["spec"]["hosts"] == ["llm.llm.svc.cluster.local"]
    engine = one(held, "kubernetes:core/v1:Service", "llm-svc")["inputs"]
    assert engine["metadata"]["name"] == "llm-engine" and engine["spec"]["type"] == "ClusterIP"


def test_only_client_namespaces_and_the_gateway_reach_the_interceptor(held: Plan) -> None:
    policies = {
        r["name"]: r["inputs"]["spec"]
        for r in of_type(held, "kubernetes:networking.k8s.io/v1:NetworkPolicy")
    }
    base = policies["scale-interceptor"]
    assert base["podSelector"]["matchLabels"] == INTERCEPTOR_LABELS
    proxy, admin = base["ingress"]
    assert proxy["from"] == [{"namespaceSelector": {"matchLabels": {"llmplane.io/client": "true"}}}]
    assert proxy["ports"] == [{"port": 8080, "protocol": "TCP"}]
    # The add-on's scaler reads the queue on the admin port, from KEDA's own namespace.
    assert admin["from"] == [{"podSelector": {}}] and admin["ports"][0]["port"] == 9090
    gateway = policies["llm-held-gateway"]
    (rule,) = gateway["ingress"]
    (peer,) = rule["from"]
    assert peer["namespaceSelector"]["matchLabels"] == {"kubernetes.io/metadata.name": "llm"}
    assert peer["podSelector"]["matchLabels"]["app.kubernetes.io/name"] == "gateway"
