"""`llmplane check`: the policy pack over stacks, a preview or a stack export; no Pulumi CLI."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from rich.markup import escape

from ..config.errors import SettingsError
from .grammar import (
    JsonFlag,
    StackNames,
    StacksDir,
    error_line,
    output_format,
    plan_each,
    stack_files,
)
from .terminal import console, emit

if TYPE_CHECKING:
    from llmplane.policies.offline import Report
    from llmplane.policies.rules import Rule

EXIT_VIOLATIONS, EXIT_BAD_INPUT = 1, 2
CheckFormat = Literal["table", "json", "sarif", "markdown"]


def check(
    stacks: StackNames = None,
    resources: Annotated[
        Path | None,
        typer.Option(
            "--resources",
            help="Check this `pulumi preview --json` or `pulumi stack export` file instead of "
            "planning; a STACK named too supplies its waivers.",
        ),
    ] = None,
    policy_config: Annotated[
        Path | None,
        typer.Option(
            "--policy-config",
            help="Policy settings, in the format of `pulumi preview --policy-pack-config`.",
        ),
    ] = None,
    fmt: Annotated[
        CheckFormat,
        typer.Option(
            "--format", case_sensitive=False, help="table, json, sarif (2.1.0) or markdown."
        ),
    ] = "table",
    as_json: JsonFlag = False,
    list_policies: Annotated[
        bool, typer.Option("--list", help="List the policies and exit.")
    ] = False,
    stacks_dir: StacksDir = Path("stacks"),
) -> None:
    """Check stacks against the security policy pack; exit 1 on a mandatory violation."""
    # Imported here: the policy SDK is only needed by this command.
    from llmplane.policies.offline import PolicyInputError

    try:
        chosen = output_format(fmt, as_json)
        _check(stacks, resources, policy_config, chosen, list_policies, stacks_dir)
    except PolicyInputError as error:
        # The pack reports bad input in its own terms; the CLI's contract is SettingsError.
        raise SettingsError("-", error.flag, error.problem, error.fix) from None


def _check(
    stacks: list[str] | None,
    resources: Path | None,
    policy_config: Path | None,
    fmt: str,
    list_policies: bool,
    stacks_dir: Path,
) -> None:
    """The check command's work, once its arguments are parsed."""
    from llmplane.policies.offline import evaluate, from_plan, read_resources
    from llmplane.policies.rules import load_all

    rules = load_all()
    if list_policies:
        emit(_policy_lines(rules))
        return
    config = _policy_config(policy_config)
    checked = []
    bad: list[SettingsError] = []
    if resources is not None:
        if stacks and len(stacks) > 1:
            raise SettingsError(
                "-",
                "STACK",
                "--resources takes at most one stack name",
                "name the stack whose waivers apply, or none",
            )
        waivers = _waivers(stacks[0], stacks_dir) if stacks else {}
        name = stacks[0] if stacks else resources.stem
        report = evaluate(read_resources(resources), config, waivers)
        checked.append((name, str(resources), report))
    else:
        # Every stack that plans is checked and reported; each one that does not is named on
        # stderr, one line each, and the run exits 2 after the report of the others.
        planned, bad = plan_each(stack_files(stacks or [], stacks_dir))
        for path, plan in planned:
            report = evaluate(from_plan(plan), config, plan["waivers"])
            checked.append((plan["stack"], str(path), report))
    # With no stack left to report on, the errors below are all there is to say.
    if checked or not bad:
        _emit_report(checked, fmt, rules)
    for error in bad:
        sys.stderr.write(error_line(error, "llmplane check") + "\n")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)
    if any(report.mandatory for _, _, report in checked):
        raise typer.Exit(EXIT_VIOLATIONS)


def _emit_report(checked: list[tuple[str, str, Report]], fmt: str, rules: list[Rule]) -> None:
    """The report of the checked stacks, in the --format asked for."""
    from llmplane.policies.formats import markdown, sarif
    from llmplane.policies.offline import findings_json

    if fmt == "json":
        emit(json.dumps({"stacks": findings_json((s, r) for s, _, r in checked)}, indent=2))
    elif fmt == "sarif":
        emit(json.dumps(sarif(checked, rules), indent=2))
    elif fmt == "markdown":
        emit(markdown(checked))
    else:
        for stack, _, report in checked:
            _print_report(stack, report, len(rules))


def _policy_config(path: Path | None) -> dict[str, Any]:
    """The --policy-config file: JSON, as `pulumi preview --policy-pack-config` takes it."""
    if path is None:
        return {}
    try:
        data = json.loads(path.read_text())
    except OSError as error:
        raise SettingsError(
            "-", "--policy-config", f"cannot read {path}: {error.strerror}", "name a JSON file"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise SettingsError(
            "-",
            "--policy-config",
            f"{path} is not JSON",
            'write {"all": "mandatory", "<policy>": {"enforcementLevel": "advisory"}}',
        ) from None
    if not isinstance(data, dict):
        raise SettingsError(
            "-", "--policy-config", f"{path} holds no JSON object", "map policy names to settings"
        )
    return data


def _waivers(stack: str, stacks_dir: Path) -> dict[str, str]:
    """A stack's waivers, read from its file without planning it."""
    from ..offline.synth import parse_stack_file

    (path,) = stack_files([stack], stacks_dir)
    return dict(parse_stack_file(path)[0].policy_waivers)


def _policy_lines(rules: list[Rule]) -> str:
    """One line per policy, aligned, so that it reads in a terminal and greps in a script."""
    width = max(len(rule.name) for rule in rules)
    lines = [f"{len(rules)} policies (kind, severity, enforcement, frameworks):"]
    for rule in rules:
        kind = "stack" if rule.is_stack_rule else "resource"
        lines.append(
            f"{rule.name:<{width}}  {kind:<8}  {rule.severity:<8}  {rule.enforcement:<9}  "
            f"{', '.join(rule.frameworks)}"
        )
    return "\n".join(lines)


def _print_report(stack: str, report: Report, policies: int) -> None:
    advisory = len(report.findings) - len(report.mandatory)
    mark = "[red]✗[/]" if report.mandatory else "[green]✓[/]"
    console.print(
        f"{mark} [bold]{escape(stack)}[/]: {len(report.mandatory)} mandatory, {advisory} advisory "
        f"violations of {policies} policies"
    )
    for finding in report.findings:
        level = "[red]mandatory[/]" if finding.enforcement == "mandatory" else "[yellow]advisory[/]"
        resource = (
            f"{finding.resource_type} {finding.resource_name}" if finding.urn else "the stack"
        )
        console.print(f"  {level} [bold]{finding.policy}[/] on {escape(resource)}", soft_wrap=True)
        console.print(f"      {escape(finding.message)}", soft_wrap=True)
        console.print(f"      [dim]fix: {escape(finding.remediation)}[/]", soft_wrap=True)
    for policy, reason in sorted(report.waivers.items()):
        console.print(f"  waived {policy}: {escape(reason)}", soft_wrap=True)
    for policy, why in report.not_evaluated:
        console.print(f"  not evaluated {policy}: {escape(why)}", soft_wrap=True)
