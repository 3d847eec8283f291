"""Kubeconfigs for managed clusters carry a credential plugin, never a credential."""

from __future__ import annotations

import json

from llmplane.components.aws.eks import kubeconfig as eks_kubeconfig
from llmplane.components.kubeconfig import exec_kubeconfig


def test_eks_kubeconfig_gets_a_token_from_the_aws_cli() -> None:
    config = json.loads(eks_kubeconfig("llm-dev", "https://api", "Q0E=", "eu-west-1"))
    assert config["current-context"] == "llm-dev"
    assert config["clusters"][0]["cluster"] == {
        "server": "https://api",
        "certificate-authority-data": "Q0E=",
    }
    plugin = config["users"][0]["user"]["exec"]
    assert plugin["command"] == "aws"
    assert plugin["args"] == [
        "eks",
        "get-token",
        "--cluster-name",
        "llm-dev",
        "--region",
        "eu-west-1",
    ]
    assert "token" not in config["users"][0]["user"]


def test_plugin_fields_pass_through() -> None:
    config = json.loads(
        exec_kubeconfig(
            "c",
            "https://1.2.3.4",
            "Q0E=",
            {"command": "gke-gcloud-auth-plugin", "provideClusterInfo": True},
        )
    )
    plugin = config["users"][0]["user"]["exec"]
    assert plugin == {
        "apiVersion": "client.authentication.k8s.io/v1beta1",
        "command": "gke-gcloud-auth-plugin",
        "provideClusterInfo": True,
    }
