"""InferenceService built directly, as a user's own program builds it: what the component promises.

Each test builds components inside `@pulumi.runtime.test` under Pulumi's mocks, with the offline
engine's capturing monitor, and then reads what was registered: types, names, inputs, parents,
providers and dependencies.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import settings as runtime_settings

from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.kubernetes.gateway import gateway_labels
from llmplane.components.kubernetes.inference import (
    TYPE,
    InferenceService,
    InferenceServiceArgs,
    PlacementArgs,
    resolve,
)
from llmplane.infra.offline.mocks import PlanMocks
from llmplane.infra.offline.synth import REDACTED, CapturingMonitor

Resource = dict[str, Any]
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
NAMESPACE = "kubernetes:core/v1:Namespace"
POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
SECRET = "kubernetes:core/v1:Secret"
TOKEN = "hf_ComponentTestTokenValue0123456789"
KEYS = "k" * 40
GPU = PlacementArgs(node_selector={"nvidia.com/gpu.present": "true"}, tolerations=[{"key": "gpu"}])


@pytest.fixture
def monitor() -> Iterator[CapturingMonitor]:
    """Fresh mocks whose monitor keeps every registration, as the offline engine's does."""
    monitor = CapturingMonitor(PlanMocks())
    # A new root Stack per test: otherwise parents and outputs leak from the previous one.
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi_mocks.set_mocks(
        monitor.mocks, project="demo", stack="dev", preview=False, monitor=monitor
    )
    yield monitor


def _run(build: Callable[[], Any]) -> None:
    """Run `build` as a Pulumi program and wait for every registration and Output it made."""
    pulumi.runtime.test(build)()


def _resources(monitor: CapturingMonitor, type_: str | None = None) -> list[Resource]:
    return [r for r in monitor.captured.values() if type_ is None or r["type"] == type_]


def _named(monitor: CapturingMonitor, type_: str, name: str) -> Resource:
    (found,) = [r for r in _resources(monitor, type_) if r["name"] == name]
    return found


def _under(monitor: CapturingMonitor, component: str) -> list[Resource]:
    """The Kubernetes objects one component created."""
    (urn,) = [r["urn"] for r in _resources(monitor, TYPE) if r["name"] == component]
    return [r for r in _resources(monitor) if r["parent"] == urn]


def _selects(selector: Mapping[str, str], labels: Mapping[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _pod_labels(deployment: Resource) -> dict[str, str]:
    return deployment["inputs"]["spec"]["template"]["metadata"]["labels"]


def _selectors(resource: Resource) -> list[dict[str, str]]:
    """Every label selector an object holds: Deployment, PDB, Service, NetworkPolicy peers."""
    spec = resource["inputs"].get("spec", {})
    found = []
    if "matchLabels" in spec.get("selector", {}):
        found.append(spec["selector"]["matchLabels"])
    elif resource["type"] == "kubernetes:core/v1:Service":
        found.append(spec["selector"])
    if resource["type"] == POLICY and spec["podSelector"]:
        found.append(spec["podSelector"]["matchLabels"])
    return found


def _container(deployment: Resource) -> dict[str, Any]:
    (container,) = deployment["inputs"]["spec"]["template"]["spec"]["containers"]
    return container


def _two_services(provider: k8s.Provider) -> tuple[InferenceService, InferenceService]:
    """TGI and vLLM in one namespace, which the first creates; both public and autoscaled."""
    scaling = {"prometheus_url": "http://prometheus.monitoring", "monitoring_namespace": "mon"}
    gateway = {"api_keys": KEYS, "tls_certificate": "CERT", "tls_key": "KEY"}
    chat = InferenceService(
        "chat",
        InferenceServiceArgs(
            model_id="Qwen/Qwen2.5-7B-Instruct",
            placement=GPU,
            engine="tgi",
            namespace="llm",
            create_namespace=True,
            labels={"team": "ml"},
            hf_token=TOKEN,
            autoscaling=scaling,  # type: ignore[typeddict-item]
            gateway=gateway,  # type: ignore[typeddict-item]
        ),
        opts=pulumi.ResourceOptions(providers=[provider]),
    )
    code = InferenceService(
        "code",
        InferenceServiceArgs(
            model_id="Qwen/Qwen2.5-Coder-7B-Instruct",
            placement=GPU,
            engine="vllm",
            namespace=chat.namespace,
            labels={"team": "ml"},
            hf_token=TOKEN,
            engine_args=["--max-num-seqs", "64"],
            autoscaling=scaling,  # type: ignore[typeddict-item]
            gateway=gateway,  # type: ignore[typeddict-item]
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    return chat, code


def test_two_services_share_a_namespace_without_clashing(monitor: CapturingMonitor) -> None:
    seen: dict[str, Any] = {}

    def build() -> Any:
        provider = k8s.Provider("cluster", context="lab")
        chat, code = _two_services(provider)
        return pulumi.Output.all(
            chat.endpoint, code.endpoint, chat.service_name, code.namespace, code.public_endpoint
        ).apply(lambda values: seen.update(outputs=values))

    _run(build)
    chat_url, code_url, chat_service, code_namespace, code_public = seen["outputs"]
    assert (chat_url, code_url) == (
        "http://chat.llm.svc.cluster.local",
        "http://code.llm.svc.cluster.local",
    )
    assert (chat_service, code_namespace) == ("chat", "llm")
    assert code_public.startswith("https://")
    chat, code = _under(monitor, "chat"), _under(monitor, "code")
    # No two objects of one kind share a name in the namespace.
    keys = [
        (r["type"], r["inputs"]["metadata"]["namespace"], r["inputs"]["metadata"]["name"])
        for r in chat + code
        if r["type"] != NAMESPACE
    ]
    assert len(keys) == len(set(keys)) and all(key[1] == "llm" for key in keys)
    # Every selector picks the pods of exactly one Deployment: its own service's engine or gateway.
    deployments = [r for r in chat + code if r["type"] == DEPLOYMENT]
    assert len(deployments) == 4
    for owner in (chat, code):
        mine = {r["urn"] for r in owner if r["type"] == DEPLOYMENT}
        for resource in owner:
            for selector in _selectors(resource):
                picked = {d["urn"] for d in deployments if _selects(selector, _pod_labels(d))}
                assert len(picked) == 1 and picked <= mine, (resource["name"], selector)
    # Each scaler counts only its own engine's queue.
    for name, engine in (("chat", "tgi"), ("code", "vllm")):
        query = _named(monitor, SCALER, f"{name}-scaler")["inputs"]["spec"]["triggers"][0]
        metric = ENGINES[engine].queue_metric
        expected = f'sum({metric}{{namespace="llm",app_kubernetes_io_instance="{name}"}})'
        assert query["metadata"]["query"] == expected
    # The second service waits for the namespace the first one created.
    (namespace,) = _resources(monitor, NAMESPACE)
    assert all(namespace["urn"] in r["dependencies"] for r in code)
    # Both ways of passing the provider reach every child.
    (provider,) = _resources(monitor, "pulumi:providers:kubernetes")
    assert all(r["provider"] == provider["urn"] for r in chat + code)


def test_engine_args_come_after_the_generated_ones(monitor: CapturingMonitor) -> None:
    def build() -> None:
        _two_services(k8s.Provider("cluster", context="lab"))

    _run(build)
    args = _container(_named(monitor, DEPLOYMENT, "code"))["args"]
    spec = resolve("code", {"model_id": "Qwen/Qwen2.5-Coder-7B-Instruct", "placement": GPU})
    generated = ENGINES["vllm"].args(spec.request)
    assert args == [*generated, "--max-num-seqs", "64"]
    assert _container(_named(monitor, DEPLOYMENT, "code"))["image"] == ENGINES["vllm"].image
    assert _container(_named(monitor, DEPLOYMENT, "chat"))["args"] == ENGINES["tgi"].args(
        resolve("chat", {"model_id": "Qwen/Qwen2.5-7B-Instruct", "placement": GPU}).request
    )


def test_the_token_stays_a_secret_even_when_passed_as_plain_text(
    monitor: CapturingMonitor,
) -> None:
    def build() -> None:
        _two_services(k8s.Provider("cluster", context="lab"))

    _run(build)
    assert TOKEN not in json.dumps(list(monitor.captured.values()))
    secret = _named(monitor, SECRET, "chat-hf-token")["inputs"]
    assert secret["metadata"]["name"] == "chat-hf-token"
    assert secret["stringData"] == {"HF_TOKEN": REDACTED}
    keys = _named(monitor, SECRET, "code-gateway-keys")["inputs"]
    assert keys["metadata"]["name"] == "code-gateway-keys" and KEYS not in json.dumps(keys)


def _minimal(monitor: CapturingMonitor, **extra: Any) -> dict[str, Any]:
    """One service from a model id, a placement and a provider, plus `extra` args."""
    seen: dict[str, Any] = {}

    def build() -> Any:
        provider = k8s.Provider("cluster", context="lab")
        args = InferenceServiceArgs(model_id="Qwen/Qwen2.5-7B-Instruct", placement=GPU)
        args.update(extra)  # type: ignore[typeddict-item]
        service = InferenceService("chat", args, opts=pulumi.ResourceOptions(provider=provider))
        seen["public"] = service.public_endpoint
        return pulumi.Output.all(service.namespace, service.endpoint).apply(
            lambda values: seen.update(outputs=values)
        )

    _run(build)
    return seen


def test_a_minimal_service_needs_only_a_model_a_placement_and_a_provider(
    monitor: CapturingMonitor,
) -> None:
    seen = _minimal(monitor)
    assert seen["outputs"] == ["default", "http://chat.default.svc.cluster.local"]
    assert seen["public"] is None
    types = sorted(r["type"] for r in _under(monitor, "chat"))
    assert types == [
        DEPLOYMENT,
        "kubernetes:core/v1:Service",
        "kubernetes:core/v1:ServiceAccount",
        POLICY,
        "kubernetes:policy/v1:PodDisruptionBudget",
    ]
    deployment = _named(monitor, DEPLOYMENT, "chat")
    container = _container(deployment)
    assert container["image"] == ENGINES["tgi"].image
    resources = container["resources"]
    assert resources["limits"] == {"cpu": "2", "memory": "16Gi", "nvidia.com/gpu": "1"}
    pod = deployment["inputs"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert pod["tolerations"] == [{"effect": "NoSchedule", "key": "gpu", "operator": "Exists"}]
    # Nothing said the model fits: the pod says so, for the policies to flag.
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["LLMPLANE_GPU_FIT"] == "unchecked"
    assert deployment["inputs"]["spec"]["replicas"] == 1
    # The recommended labels, the instance from the object name, select the pods.
    assert deployment["inputs"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/instance": "chat",
        "app.kubernetes.io/managed-by": "pulumi",
        "app.kubernetes.io/name": "inference",
    }


def test_an_existing_namespace_gets_no_namespace_and_no_namespace_wide_deny(
    monitor: CapturingMonitor,
) -> None:
    _minimal(monitor, namespace="team-a")
    assert not _resources(monitor, NAMESPACE)
    (policy,) = _resources(monitor, POLICY)
    # Only the engine's own policy: a deny-all would cut off the namespace's other workloads.
    assert policy["inputs"]["metadata"]["name"] == "chat-traffic"
    assert policy["inputs"]["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"]
    assert {r["inputs"]["metadata"]["namespace"] for r in _under(monitor, "chat")} == {"team-a"}


def test_a_created_namespace_is_owned_denied_by_default_and_waited_for(
    monitor: CapturingMonitor,
) -> None:
    seen = _minimal(monitor, create_namespace=True)
    (namespace,) = _resources(monitor, NAMESPACE)
    # Named after the service unless the args name it.
    assert namespace["inputs"]["metadata"]["name"] == "chat" and seen["outputs"][0] == "chat"
    deny = _named(monitor, POLICY, "chat-deny-all")["inputs"]
    assert deny["metadata"]["name"] == "default-deny" and deny["spec"]["podSelector"] == {}
    others = [r for r in _under(monitor, "chat") if r["type"] != NAMESPACE]
    assert all(namespace["urn"] in r["dependencies"] for r in others)


def test_the_gateway_needs_no_instance_label(monitor: CapturingMonitor) -> None:
    gateway = {"api_keys": KEYS, "tls_certificate": "CERT", "tls_key": "KEY"}
    # Labels without app.kubernetes.io/instance used to raise KeyError.
    seen = _minimal(monitor, labels={"app.kubernetes.io/name": "chat"}, gateway=gateway)
    engine = _named(monitor, DEPLOYMENT, "chat")["inputs"]["spec"]["selector"]["matchLabels"]
    front = _named(monitor, DEPLOYMENT, "chat-gateway")["inputs"]["spec"]["selector"]
    assert engine["app.kubernetes.io/instance"] == "chat"
    assert front["matchLabels"] == gateway_labels(engine)
    assert front["matchLabels"]["app.kubernetes.io/instance"] == "chat-gateway"
    assert not _selects(front["matchLabels"], engine) and not _selects(engine, front["matchLabels"])
    assert gateway_labels({"team": "ml"}) == {"team": "ml", "app.kubernetes.io/name": "gateway"}
    # Its objects take their names from the service's: chat-gateway, chat-gateway-keys, ...
    names = {
        r["inputs"]["metadata"]["name"] for r in _under(monitor, "chat") if "gateway" in r["name"]
    }
    assert names == {
        "chat-gateway",
        "chat-gateway-config",
        "chat-gateway-keys",
        "chat-gateway-tls",
        "chat-gateway-traffic",
    }
    assert seen["public"] is not None


@pytest.mark.parametrize(
    ("name", "args", "words"),
    [
        ("Chat_1", {}, "the resource name 'Chat_1' must be lowercase"),
        ("chat", {"object_name": "x" * 60}, "at most 54 characters"),
        ("chat", {"engine": "ollama"}, "engine 'ollama' is not one of sglang, tgi, vllm"),
        ("chat", {"engine": "sglang", "quantize": "exl2"}, "sglang does not support quantize"),
        ("chat", {"kv_cache_dtype": "fp4"}, "kv_cache_dtype 'fp4' is not one of"),
        ("chat", {"gpus": 0}, "gpus must be at least 1"),
        ("chat", {"min_replicas": 3, "max_replicas": 2}, "min_replicas (3) <= replicas (3)"),
        ("chat", {"wake": {"timezone": "UTC", "start": "0 8 * * *", "end": "0 9 * * *"}}, "wake"),
    ],
)
def test_args_kubernetes_would_refuse_fail_with_a_clear_message(
    name: str, args: dict[str, Any], words: str
) -> None:
    with pytest.raises(ValueError, match="InferenceService") as caught:
        resolve(name, {"model_id": "m", "placement": GPU, **args})  # type: ignore[typeddict-item]
    assert words in str(caught.value)


def test_bad_args_register_nothing(monitor: CapturingMonitor) -> None:
    bad = InferenceServiceArgs(model_id="m", placement=GPU, engine="ollama")
    with pytest.raises(ValueError, match="engine 'ollama'"):
        _run(lambda: InferenceService("chat", bad))
    assert not [r for r in _resources(monitor) if r["type"] != "pulumi:pulumi:Stack"]


def test_pulumis_component_analyzer_reads_the_args_and_outputs() -> None:
    """What `pulumi package add` would publish: inputs with descriptions, typed outputs."""
    result = Analyzer("llmplane").analyze([InferenceService])
    component = result["component_definitions"]["InferenceService"]
    assert component.description and "LLM server" in component.description
    inputs = component.inputs
    assert {key for key, prop in inputs.items() if not prop.optional} == {"modelId", "placement"}
    assert set(InferenceServiceArgs.__annotations__) == set(component.inputs_mapping.values())
    assert all(prop.description for prop in inputs.values()), "every input has a description"
    # Values that may come from another resource are Inputs; sizing is plain numbers.
    assert inputs["namespace"].plain is None and inputs["hfToken"].plain is None
    assert inputs["gpus"].type is not None and inputs["gpus"].type.value == "integer"
    assert inputs["gpus"].plain is True
    assert inputs["memoryFraction"].type is not None
    assert inputs["memoryFraction"].type.value == "number"
    outputs = component.outputs
    assert set(outputs) == {"endpoint", "publicEndpoint", "namespace", "serviceName"}
    assert all(prop.description for prop in outputs.values())
    assert outputs["publicEndpoint"].optional and not outputs["endpoint"].optional
    types = result["type_definitions"]
    assert set(types) == {
        "PlacementArgs",
        "GpuTolerationArgs",
        "AutoscalingArgs",
        "WakeScheduleArgs",
        "GatewayArgs",
        "ScaleFromZeroArgs",
        "WarmCacheArgs",
    }
    for type_ in types.values():
        assert type_.description and all(p.description for p in type_.properties.values())
    assert not result["dependencies"], "only plain values: no other package's schema is needed"
