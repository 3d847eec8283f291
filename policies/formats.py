"""`llmplane check` reports: SARIF 2.1.0 for code scanning, Markdown for pull-request comments."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .offline import Finding, Report
from .pack import PACK_NAME, PACK_VERSION
from .rules import Rule

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
# GitHub ranks code-scanning alerts by this CVSS-like score (0-10).
SECURITY_SEVERITY = {"critical": "9.5", "high": "8.0", "medium": "5.5", "low": "2.0"}
SARIF_LEVEL = {"mandatory": "error", "advisory": "warning"}

Checked = Sequence[tuple[str, str, Report]]
"""(stack, the file its resources came from, its report) for each stack checked."""


def sarif(checked: Checked, rules: Sequence[Rule]) -> dict[str, Any]:
    """One SARIF run: every policy as a rule, every violation as a result on its stack file."""
    index = {rule.name: i for i, rule in enumerate(rules)}
    results = []
    for stack, source, report in checked:
        for finding in report.findings:
            result: dict[str, Any] = {
                "ruleId": finding.policy,
                "ruleIndex": index[finding.policy],
                "level": SARIF_LEVEL[finding.enforcement],
                "message": {"text": f"{stack}: {finding.message}"},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": {"uri": source},
                            "region": {"startLine": 1},
                        },
                        "logicalLocations": [
                            {"fullyQualifiedName": finding.urn or stack, "kind": "resource"}
                        ],
                    }
                ],
                # Same stack, policy and resource: the same alert from one run to the next.
                "partialFingerprints": {
                    "llmplanePolicy/v1": f"{stack}:{finding.policy}:{finding.urn or ''}"
                },
            }
            if finding.waived:
                result["suppressions"] = [{"kind": "external", "justification": finding.waived}]
            results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": PACK_NAME,
                        "version": PACK_VERSION,
                        "informationUri": "https://github.com/llmplane/llmplane",
                        "rules": [_sarif_rule(rule) for rule in rules],
                    }
                },
                "results": results,
            }
        ],
    }


def _sarif_rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.name,
        "name": rule.name,
        "shortDescription": {"text": rule.description},
        "help": {"text": rule.remediation},
        "defaultConfiguration": {"level": SARIF_LEVEL[rule.enforcement]},
        "properties": {
            "tags": ["security", *rule.frameworks],
            "security-severity": SECURITY_SEVERITY[rule.severity],
        },
    }


def markdown(checked: Checked) -> str:
    """A PR comment: a summary line per stack, then each violation with how to fix it."""
    lines = ["## llmplane policy check", ""]
    lines += ["| Stack | Mandatory | Advisory | Waived | Not evaluated |", "|---|---|---|---|---|"]
    for stack, _, report in checked:
        advisory = [f for f in report.findings if f.enforcement == "advisory"]
        lines.append(
            f"| {stack} | {len(report.mandatory)} | {len(advisory)} | {len(report.waivers)} | "
            f"{len(report.not_evaluated)} |"
        )
    for stack, _, report in checked:
        if not (report.findings or report.waivers or report.not_evaluated):
            continue
        lines += ["", f"### {stack}", ""]
        if report.findings:
            lines += [
                "| | Policy | Severity | Resource | Problem | Fix |",
                "|---|---|---|---|---|---|",
            ]
            lines += [_markdown_row(f) for f in report.findings]
        for policy, reason in sorted(report.waivers.items()):
            lines.append(f"- **waived** `{policy}`: {_cell(reason)}")
        for policy, why in report.not_evaluated:
            lines.append(f"- **not evaluated** `{policy}`: {_cell(why)}")
    return "\n".join(lines) + "\n"


def _markdown_row(finding: Finding) -> str:
    mark = "❌" if finding.enforcement == "mandatory" else "⚠️"
    resource = finding.resource_name or "(stack)"
    return (
        f"| {mark} | `{finding.policy}` | {finding.severity} | `{resource}` | "
        f"{_cell(finding.message)} | {_cell(finding.remediation)} |"
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")
