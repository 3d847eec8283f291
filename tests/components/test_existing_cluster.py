"""The existing-cluster target, built from ExistingClusterArgs alone and from a stack's settings."""

from __future__ import annotations

import json
from typing import Any
from unittest import mock

import pulumi
import pytest

from llmplane.components.cloud import Toleration
from llmplane.components.cluster import Workload
from llmplane.components.existing import ExistingCluster, ExistingClusterArgs
from llmplane.infra.cloud_args import cluster_for
from llmplane.infra.cloud_args.kubernetes import kubernetes_args
from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import ExistingClusterStack, parse
from tests.components.direct import capture
from tests.conftest import config_with, parse_as
from tests.plans import of_type, one

PROVIDER = "pulumi:providers:kubernetes"


def test_existing_cluster_builds_from_its_args_alone() -> None:
    handles: dict[str, Any] = {}

    def build() -> None:
        args = ExistingClusterArgs(
            kube_context="lab",
            kubeconfig=pulumi.Output.secret("apiVersion: v1\nkind: Config\n# s3cr3t-config\n"),
            node_selector={"zone": "b", "gpu": "h100"},
            taint_keys=("nvidia.com/gpu", "dedicated"),
            gpu_resource="amd.com/gpu",
        )
        handles["target"] = ExistingCluster("llm", args)

    plan = capture(build)
    provider = one(plan, PROVIDER, "llm-cluster")
    assert provider["inputs"]["context"] == "lab"
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert "s3cr3t-config" not in json.dumps(plan)
    # Only the provider, under the component: no key, no cluster, no registry, no identity.
    assert [r["name"] for r in plan["resources"] if r["custom"]] == ["llm-cluster"]
    component = one(plan, "llmplane:kubernetes:ExistingCluster", "llm")
    assert provider["parent"] == component["urn"]
    target = handles["target"]
    assert target.registry is None and target.identity.annotations == {}
    assert target.cluster.name == "llm-cluster" and target.cluster.provider is not None
    placement = target.placement
    # Sorted, whatever order the selector came in.
    assert list(placement.node_selector.items()) == [("gpu", "h100"), ("zone", "b")]
    assert placement.tolerations == (Toleration(key="nvidia.com/gpu"), Toleration(key="dedicated"))
    assert placement.gpu_resource == "amd.com/gpu"


def test_defaults_reach_the_ambient_kubeconfig_and_nvidia_gpus() -> None:
    handles: dict[str, Any] = {}
    plan = capture(lambda: handles.update(target=ExistingCluster("gpu", ExistingClusterArgs())))
    (provider,) = of_type(plan, PROVIDER)
    assert provider["name"] == "gpu-cluster"
    assert "kubeconfig" not in provider["inputs"] and "context" not in provider["inputs"]
    assert handles["target"].placement.gpu_resource == "nvidia.com/gpu"
    assert handles["target"].placement.tolerations == (Toleration(key="nvidia.com/gpu"),)


def test_stack_settings_map_onto_the_args() -> None:
    config = config_with(
        gpu={
            "nodeSelector": {"b": "2", "a": "1"},
            "taintKeys": ["gpu"],
            "resourceName": "x.io/gpu",
        },
        **{"kubernetes:context": "ctx", "kubernetes:kubeconfig": "apiVersion: v1\n"},
    )
    args = kubernetes_args(
        parse_as(ExistingClusterStack, "k8s", config, frozenset({"kubernetes:kubeconfig"}))
    )
    assert args.kube_context == "ctx"
    assert args.node_selector == {"b": "2", "a": "1"}
    assert args.taint_keys == ("gpu",)
    assert args.gpu_resource == "x.io/gpu"
    assert isinstance(args.kubeconfig, pulumi.Output)
    bare = kubernetes_args(parse_as(ExistingClusterStack, "k8s", config_with(), frozenset()))
    assert bare.kubeconfig is None and bare.kube_context is None


def test_a_component_refusal_reaches_the_user_as_the_one_line_error() -> None:
    """The settings rules refuse bad stacks first; if a component still refuses, no traceback."""
    refusal = ValueError("taint keys must not be empty")
    with (
        mock.patch("llmplane.infra.cloud_args.kubernetes.kubernetes_args", side_effect=refusal),
        pytest.raises(SettingsError) as caught,
    ):
        cluster_for(parse("k", config_with()), Workload("llm", "inference"))
    assert str(caught.value) == (
        "stack k: llmplane:cloud: the kubernetes target refuses the stack: taint keys must not "
        "be empty; fix the stack's settings for that target"
    )
