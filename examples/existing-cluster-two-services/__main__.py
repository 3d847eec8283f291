"""Two inference servers, TGI and vLLM, side by side in one namespace of a cluster you have."""

import pulumi
import pulumi_kubernetes as k8s

from llmplane.components.kubernetes.inference import (
    InferenceService,
    InferenceServiceArgs,
    PlacementArgs,
)

config = pulumi.Config()

# An explicit provider for one named context: nothing deploys to whichever cluster kubectl
# happens to point at.
cluster = k8s.Provider("cluster", context=config.require("kubeContext"))
on_cluster = pulumi.ResourceOptions(provider=cluster)

# GPU nodes as the NVIDIA GPU operator labels them, tainted so that only GPU pods land there.
gpu_nodes = PlacementArgs(
    node_selector={"nvidia.com/gpu.present": "true"},
    tolerations=[{"key": "nvidia.com/gpu"}],
)

# A chat model on TGI. It creates the namespace, and with it a default-deny NetworkPolicy.
chat = InferenceService(
    "chat",
    InferenceServiceArgs(
        model_id="Qwen/Qwen2.5-7B-Instruct",
        placement=gpu_nodes,
        engine="tgi",
        namespace=config.require("namespace"),
        create_namespace=True,
        max_input_tokens=4096,
        max_total_tokens=8192,
    ),
    opts=on_cluster,
)

# A coding model on vLLM, in the namespace the chat service created (so it waits for it), with
# an engine argument of its own after the ones llmplane generates.
code = InferenceService(
    "code",
    InferenceServiceArgs(
        model_id="Qwen/Qwen2.5-Coder-7B-Instruct",
        placement=gpu_nodes,
        engine="vllm",
        namespace=chat.namespace,
        max_total_tokens=16384,
        engine_args=["--max-num-seqs", "64"],
    ),
    opts=on_cluster,
)

pulumi.export("namespace", chat.namespace)
pulumi.export("chatEndpoint", chat.endpoint)
pulumi.export("codeEndpoint", code.endpoint)
