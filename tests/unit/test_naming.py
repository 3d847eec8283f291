"""Names and tags decided in one place."""

from __future__ import annotations

from llmplane.components.naming import REQUIRED_TAGS, dns_label, labels, tags


def test_dns_label_is_valid_kubernetes_name() -> None:
    assert dns_label("LLM", "My_Stack..prod") == "llm-my-stack-prod"
    long = dns_label("x" * 100)
    assert len(long) == 63
    assert dns_label("---") == "llmplane"


def test_required_tags_win_over_user_tags() -> None:
    result = tags("dev", {"team": "ml", "stack": "spoofed"})
    assert result["stack"] == "dev"
    assert result["team"] == "ml"
    assert set(REQUIRED_TAGS) <= set(result)


def test_labels_identify_stack_and_component() -> None:
    assert labels("dev", "inference")["app.kubernetes.io/instance"] == "dev-inference"
