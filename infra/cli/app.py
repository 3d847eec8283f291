"""The `llmplane` command line: plan and graph stacks offline, without a cloud account or Pulumi."""

from __future__ import annotations

import gc
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from rich.markup import escape
from rich.tree import Tree

from ..config.errors import EndpointError, SettingsError
from .check import check
from .endpoint import bench, smoke
from .graph import mermaid
from .sizing import compare_command, cost, prices_app, size
from .terminal import console, emit

if TYPE_CHECKING:
    from ..offline.synth import Plan

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    name="llmplane",
    help="Plan, check and compare LLM inference stacks offline, with no cloud account.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

StacksDir = Annotated[
    Path,
    typer.Option("--stacks-dir", help="Folder holding the Pulumi.<stack>.yaml files."),
]


def stack_files(names: Sequence[str], stacks_dir: Path) -> list[Path]:
    """The stack files to work on: the named ones, or every Pulumi.*.yaml in the folder."""
    if not stacks_dir.is_dir():
        raise SettingsError(
            "-", "--stacks-dir", f"{stacks_dir} is not a folder", "point it at the stacks folder"
        )
    available = sorted(stacks_dir.glob("Pulumi.*.yaml"))
    if not names:
        if not available:
            raise SettingsError(
                "-", "--stacks-dir", f"{stacks_dir} holds no Pulumi.<stack>.yaml", "add a stack"
            )
        return available
    chosen = []
    for name in names:
        path = stacks_dir / f"Pulumi.{name}.yaml"
        if not path.is_file():
            known = ", ".join(p.name[len("Pulumi.") : -len(".yaml")] for p in available)
            raise SettingsError(
                name, "STACK", f"there is no {path}", f"use one of: {known or '(none)'}"
            )
        chosen.append(path)
    return chosen


def plan_files(paths: Sequence[Path]) -> list[Plan]:
    """Parse every stack first, so one bad file stops the run before anything is planned."""
    # Imported here: the Pulumi runtime takes a quarter of a second to load, and only the
    # commands that plan need it.
    from ..offline.parallel import plan_all
    from ..offline.synth import parse_stack_file

    return plan_all([parse_stack_file(path) for path in paths])


@app.command()
def plan(
    stacks: Annotated[
        list[str] | None, typer.Argument(help="Stack names; default: every stack.")
    ] = None,
    stacks_dir: StacksDir = Path("stacks"),
    as_json: Annotated[
        bool, typer.Option("--json", help='Print {"stacks": [Plan, ...]} as JSON.')
    ] = False,
) -> None:
    """Plan stacks offline: every resource, its inputs and dependencies, with secrets redacted."""
    plans = plan_files(stack_files(stacks or [], stacks_dir))
    if as_json:
        emit(json.dumps({"stacks": plans}, indent=2, sort_keys=True))
        return
    for stack_plan in plans:
        console.print(plan_tree(stack_plan))


@app.command()
def graph(
    stack: Annotated[str, typer.Argument(help="The stack to draw.")],
    stacks_dir: StacksDir = Path("stacks"),
) -> None:
    """Print a stack's resources and their dependencies as a Mermaid flowchart."""
    (stack_plan,) = plan_files(stack_files([stack], stacks_dir))
    sys.stdout.write(mermaid(stack_plan))


@app.command()
def render(
    stack: Annotated[str, typer.Argument(help="The stack to render.")],
    out: Annotated[Path, typer.Option("--out", help="Folder to write the YAML files into.")],
    stacks_dir: StacksDir = Path("stacks"),
) -> None:
    """Write the stack's Kubernetes objects as YAML, one file each, secrets redacted."""
    from .render import write_manifests

    (stack_plan,) = plan_files(stack_files([stack], stacks_dir))
    if out.exists() and not out.is_dir():
        raise SettingsError(stack, "--out", f"{out} is not a folder", "name a folder to write to")
    files = write_manifests(stack_plan, out)
    console.print(f"{len(files)} objects written to {out}")


app.command("check")(check)
app.command("size")(size)
app.command("compare")(compare_command)
app.command("cost")(cost)
app.command("smoke")(smoke)
app.command("bench")(bench)
app.add_typer(prices_app, name="prices")


def plan_tree(stack_plan: Plan) -> Tree:
    """A rich tree of components and resources, with counts, for one stack."""
    resources: list[dict[str, Any]] = stack_plan["resources"]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for resource in resources:
        children.setdefault(resource["parent"], []).append(resource)
    custom = sum(1 for r in resources if r["custom"])
    components = sum(1 for r in resources if not r["custom"] and r["parent"] is not None)
    tree = Tree(
        f"[bold]{stack_plan['stack']}[/] ({stack_plan['cloud']}): "
        f"{custom} resources in {components} components"
    )

    def add(node: Tree, parent: str | None) -> None:
        for resource in children.get(parent, []):
            style = "bold" if not resource["custom"] else "dim"
            branch = node.add(f"[{style}]{escape(resource['type'])}[/] {escape(resource['name'])}")
            add(branch, resource["urn"])

    add(tree, None)
    outputs = tree.add("[bold]outputs[/]")
    for name, value in stack_plan["outputs"].items():
        outputs.add(escape(f"{name} = {value}"))
    findings = stack_plan.get("violations") or []
    if findings:
        # The same findings `llmplane check` reports, so that a plan review sees them too.
        branch = tree.add(f"[bold]policy findings[/]: {len(findings)}; see `llmplane check`")
        for finding in findings:
            where = finding["urn"].rsplit("::", 1)[-1] if finding.get("urn") else "stack"
            branch.add(
                escape(
                    f"{finding['enforcement']} {finding['policy']} ({where}): {finding['message']}"
                )
            )
    monthly = stack_plan["cost"]["monthly"]
    if monthly["max"]:
        tree.add(
            f"[bold]estimated cost[/]: ${monthly['expected']:,.0f}/month expected "
            f"(${monthly['min']:,.0f} to ${monthly['max']:,.0f}); see `llmplane cost "
            f"{stack_plan['stack']}`"
        )
    return tree


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: every failure becomes an exit code and, at most, one line."""
    # Importing the provider SDKs builds hundreds of thousands of objects and the cyclic collector
    # keeps rescanning them; a short-lived command is about 20% faster without it.
    gc.disable()
    try:
        code = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except SettingsError as error:
        _fail(str(error))
    except EndpointError as error:
        # A live endpoint failed a check: one line and exit 1, for the input was fine.
        sys.stderr.write(f"{error}\n")
        sys.exit(EXIT_VIOLATIONS)
    except typer.TyperException as error:
        # Typer's usage errors span several lines; the contract is one line and exit code 2.
        ctx = getattr(error, "ctx", None)
        command = ctx.command_path if ctx is not None else "llmplane"
        message = error.format_message().rstrip(".")
        if not message:
            # A bare `llmplane` (or a group without a command) has just printed its help.
            sys.exit(EXIT_OK)
        _fail(f"{command}: {message}; see `{command} --help`")
    except typer.Abort:
        _fail("llmplane: interrupted")
    finally:
        gc.enable()
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def run() -> NoReturn:
    """The installed `llmplane` command: main(), then exit without tearing the interpreter down.

    A plan leaves some million SDK objects in memory, and freeing them one by one at exit takes
    about a quarter of a second. Nothing is left to clean up by then (worker processes have been
    joined, no file is open for writing), so flush what was printed and leave at once.
    """
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:
        code = EXIT_OK
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code if isinstance(code, int) else EXIT_OK if code is None else EXIT_VIOLATIONS)


def _fail(message: str) -> NoReturn:
    sys.stderr.write(" ".join(message.split()) + "\n")
    sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    run()
