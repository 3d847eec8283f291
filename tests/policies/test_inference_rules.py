"""GPU inference policies: each one passes what llmplane deploys and fails what users get wrong."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plans import shipped
from tests.policies.harness import check, inputs

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SCALER = "kubernetes:keda.sh/v1alpha1:ScaledObject"
HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler"


def engine() -> dict[str, Any]:
    """The engine Deployment azure-dev ships (a GPU pod with every safeguard)."""
    return _engine("azure-dev")


def _engine(stack: str) -> dict[str, Any]:
    return inputs(shipped(stack), DEPLOYMENT, "llm")


def _container(props: dict[str, Any]) -> dict[str, Any]:
    return props["spec"]["template"]["spec"]["containers"][0]


def test_shm_must_be_memory_backed_with_a_limit() -> None:
    props = engine()
    assert check("gpu-shm-memory-backed", DEPLOYMENT, props) == []
    shm = next(v for v in props["spec"]["template"]["spec"]["volumes"] if v["name"] == "dshm")
    del shm["emptyDir"]["sizeLimit"]
    assert check("gpu-shm-memory-backed", DEPLOYMENT, props) == [
        "/dev/shm of container tgi has no sizeLimit"
    ]
    shm["emptyDir"] = {}  # disk-backed
    assert "no memory-backed /dev/shm" in check("gpu-shm-memory-backed", DEPLOYMENT, props)[0]


def test_shm_rule_ignores_pods_without_a_gpu_unless_configured() -> None:
    props = engine()
    _container(props)["volumeMounts"] = []
    resources = _container(props)["resources"]
    for section in ("limits", "requests"):
        resources[section].pop("nvidia.com/gpu", None)
        resources[section]["amd.com/gpu"] = "1"
    assert check("gpu-shm-memory-backed", DEPLOYMENT, props) == []
    config = {"gpuResources": ["amd.com/gpu"]}
    assert check("gpu-shm-memory-backed", DEPLOYMENT, props, config)


def test_startup_probe_must_cover_the_model_load() -> None:
    props = engine()
    assert check("gpu-startup-probe-covers-model-load", DEPLOYMENT, props) == []
    probe = _container(props)["startupProbe"]
    probe.update(periodSeconds=10, failureThreshold=6)
    (message,) = check("gpu-startup-probe-covers-model-load", DEPLOYMENT, props)
    assert "allows 60 s" in message
    # A threshold the user tunes down accepts it.
    config = {"minStartupSeconds": 60}
    assert check("gpu-startup-probe-covers-model-load", DEPLOYMENT, props, config) == []
    del _container(props)["startupProbe"]
    assert check("gpu-startup-probe-covers-model-load", DEPLOYMENT, props) == [
        "container tgi has no startupProbe"
    ]


def test_gpu_limit_must_match_the_request() -> None:
    props = engine()
    assert check("gpu-limits-set", DEPLOYMENT, props) == []  # a limit alone implies the request
    resources = _container(props)["resources"]
    resources["requests"]["nvidia.com/gpu"] = "2"
    (message,) = check("gpu-limits-set", DEPLOYMENT, props)
    assert "nvidia.com/gpu request 2 but limit 1" in message
    del resources["limits"]["nvidia.com/gpu"]
    assert "limit None" in check("gpu-limits-set", DEPLOYMENT, props)[0]


@pytest.mark.parametrize(
    ("type_", "spec", "bad"),
    [
        (SCALER, {"triggers": [{"type": "cpu", "metadata": {"value": "60"}}]}, True),
        (SCALER, {"triggers": [{"type": "prometheus", "metadata": {}}]}, False),
        (HPA, {"metrics": [{"type": "Resource", "resource": {"name": "cpu"}}]}, True),
        (HPA, {"metrics": [{"type": "Pods", "pods": {"metric": {"name": "queue"}}}]}, False),
        (
            "kubernetes:autoscaling/v1:HorizontalPodAutoscaler",
            {"targetCPUUtilizationPercentage": 70},
            True,
        ),
        (HPA, {}, False),  # no metrics given at all: nothing to object to
    ],
)
def test_autoscaling_never_on_cpu(type_: str, spec: dict[str, Any], bad: bool) -> None:
    assert bool(check("autoscaling-not-on-cpu", type_, {"spec": spec})) is bad


def test_shipped_scaler_is_on_the_queue() -> None:
    assert check("autoscaling-not-on-cpu", SCALER, inputs(shipped("aws-dev"), SCALER)) == []


def test_scale_to_zero_needs_a_wake_trigger() -> None:
    props = inputs(shipped("azure-dev"), SCALER)  # min 0 with active hours
    assert props["spec"]["minReplicaCount"] == 0
    assert check("scale-to-zero-has-wake-schedule", SCALER, props) == []
    props["spec"]["triggers"] = props["spec"]["triggers"][:1]
    assert check("scale-to-zero-has-wake-schedule", SCALER, props)
    del props["spec"]["minReplicaCount"]  # KEDA's default is 0
    assert check("scale-to-zero-has-wake-schedule", SCALER, props)
    props["spec"]["minReplicaCount"] = 1
    assert check("scale-to-zero-has-wake-schedule", SCALER, props) == []


def test_engine_image_comes_from_a_private_mirror() -> None:
    assert check("engine-image-from-private-registry", DEPLOYMENT, engine()) == []  # ACR
    public = _engine("kubernetes-dev")
    (message,) = check("engine-image-from-private-registry", DEPLOYMENT, public)
    assert "from ghcr.io" in message
    assert (
        check(
            "engine-image-from-private-registry",
            DEPLOYMENT,
            public,
            {"allowedRegistries": ["ghcr.io"]},
        )
        == []
    )
    _container(public)["image"] = "vllm/vllm-openai:v0.11.0"
    assert "from docker.io" in check("engine-image-from-private-registry", DEPLOYMENT, public)[0]


def test_model_cache_on_a_persistent_volume() -> None:
    assert check("gpu-model-cache-persistent", DEPLOYMENT, engine()) == []
    (message,) = check("gpu-model-cache-persistent", DEPLOYMENT, _engine("kubernetes-dev"))
    assert "/data is not on a persistent volume" in message
    assert check("gpu-model-cache-persistent", DEPLOYMENT, engine(), {"cacheMountPath": "/models"})


def _env(props: dict[str, Any]) -> dict[str, Any]:
    return {e["name"]: e for e in _container(props)["env"]}


def test_a_gated_model_without_a_token_is_an_advisory() -> None:
    # azure-dev serves Llama 3.1, which the Hub gates, and ships without llmplane:hfToken.
    props = engine()
    assert _env(props)["LLMPLANE_MODEL_GATED"]["value"] == "true"
    assert check("gated-model-has-hf-token", DEPLOYMENT, props) == [
        "container tgi serves a gated model but gets no Hugging Face token "
        "(HF_TOKEN, HUGGING_FACE_HUB_TOKEN, HF_TOKEN_PATH)"
    ]
    # The token file llmplane mounts when the stack sets hfToken satisfies it.
    with_token = engine()
    _container(with_token)["env"].append({"name": "HF_TOKEN_PATH", "value": "/data/token"})
    assert check("gated-model-has-hf-token", DEPLOYMENT, with_token) == []
    # So does an envFrom the policy cannot look into, and a model the table does not gate.
    from_secret = engine()
    _container(from_secret)["envFrom"] = [{"secretRef": {"name": "hf"}}]
    assert check("gated-model-has-hf-token", DEPLOYMENT, from_secret) == []
    open_model = engine()
    _container(open_model)["env"] = [
        e for e in _container(open_model)["env"] if e["name"] != "LLMPLANE_MODEL_GATED"
    ]
    assert check("gated-model-has-hf-token", DEPLOYMENT, open_model) == []


def test_a_fit_llmplane_could_not_check_is_an_advisory() -> None:
    # azure-dev's shape is known, so its fit was checked; kubernetes-dev sets no gpu.memoryGiB.
    assert check("gpu-fit-checked", DEPLOYMENT, engine()) == []
    assert check("gpu-fit-checked", DEPLOYMENT, _engine("kubernetes-dev")) == [
        "container tgi: llmplane could not check that the model fits the GPUs' memory"
    ]


def test_the_pod_and_the_policies_name_the_same_markers() -> None:
    from llmplane.components.kubernetes import pod
    from llmplane.policies.rules import inference

    assert (pod.GATED_ENV, pod.FIT_ENV) == (inference.GATED_ENV, inference.FIT_ENV)
