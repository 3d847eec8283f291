"""`llmplane cost` output people read: a usage-billed price shared by resources is one line."""

from __future__ import annotations

import json

import pytest

from llmplane.infra.cli.reports import usage_lines
from tests.cli.test_cli import run

NAT = "NAT data processed (per GB) $0.045/GB"
GROUPED = (
    f"{NAT} on each of 3 resources (llm-nat-us-east-1a, llm-nat-us-east-1b, llm-nat-us-east-1c)"
)


@pytest.mark.parametrize("fmt", ["table", "markdown"])
def test_aws_prod_lists_nat_data_processing_once_with_its_count(fmt: str) -> None:
    result = run("cost", "aws-prod", "--format", fmt)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.replace("│", " ").split())  # undo the table's wrapping
    assert text.count("NAT data processed") == 1, text
    assert GROUPED in text
    assert "; registry storage (GB-months) $0.1/GB-month." in text


def test_cost_json_keeps_one_usage_item_per_resource() -> None:
    result = run("cost", "aws-prod", "--format", "json")
    assert result.returncode == 0, result.stderr
    (stack,) = json.loads(result.stdout)["stacks"]
    nat = [i for i in stack["cost"]["usageBased"] if i["component"].startswith("NAT data")]
    assert [i["resource"] for i in nat] == [
        "llm-nat-us-east-1a",
        "llm-nat-us-east-1b",
        "llm-nat-us-east-1c",
    ]


def test_usage_lines_group_by_component_and_price_only() -> None:
    def item(resource: str, price: float, unit: str = "GB") -> dict[str, object]:
        return {"resource": resource, "component": "egress", "unitPrice": price, "unit": unit}

    lines = usage_lines([item("a", 0.09), item("b", 0.09), item("c", 0.05), item("d", 0.09, "TB")])
    assert lines == [
        "egress $0.09/GB on each of 2 resources (a, b)",
        "egress $0.05/GB",
        "egress $0.09/TB",
    ]
