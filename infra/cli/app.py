"""The `llmplane` command line: plan and graph stacks offline, without a cloud account or Pulumi."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal, NoReturn

import typer

from ..config.errors import EndpointError, SettingsError
from ..offline.process import exit_without_teardown, no_cyclic_collection
from .check import check
from .endpoint import bench, smoke
from .grammar import (
    FormatOption,
    JsonFlag,
    StackNames,
    StacksDir,
    command_path,
    error_line,
    in_kernel_fs,
    output_format,
    plan_files,
    plan_texts,
    plans_json,
    stack_files,
    usage_line,
)
from .graph import GRAPH_FORMATS
from .plan_view import plan_tree
from .size import size
from .sizing import compare_command, cost, prices_app
from .terminal import console, emit, markdown_block

if TYPE_CHECKING:
    pass

EXIT_OK, EXIT_VIOLATIONS, EXIT_BAD_INPUT = 0, 1, 2

app = typer.Typer(
    name="llmplane",
    help="Plan, check and compare LLM inference stacks offline, with no cloud account.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Re-exported: the commands in other modules and the tests take them from here.
__all__ = ["app", "main", "plan_files", "run", "stack_files"]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            emit(f"llmplane {version('llmplane')}")
        except PackageNotFoundError:
            emit("llmplane (not installed as a package; version unknown)")
        raise typer.Exit(EXIT_OK)


@app.callback()
def _options(
    _version_flag: Annotated[
        bool,
        typer.Option(
            "--version", is_eager=True, callback=_version, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """Plan, check and compare LLM inference stacks offline, with no cloud account."""


@app.command()
def plan(
    stacks: StackNames = None,
    stacks_dir: StacksDir = Path("stacks"),
    fmt: FormatOption = "table",
    as_json: Annotated[
        bool,
        typer.Option("--json", help='Print {"stacks": [Plan, ...]} as JSON: --format json.'),
    ] = False,
    show_all: Annotated[
        bool,
        typer.Option(
            "--all", help="List every resource; by default runs of one type fold into one line."
        ),
    ] = False,
    no_cache: Annotated[
        bool,
        typer.Option(
            "--no-cache",
            help="Plan every stack again instead of reusing a plan whose inputs are unchanged "
            "(kept in $LLMPLANE_CACHE_DIR, default ~/.cache/llmplane/plans).",
        ),
    ] = False,
) -> None:
    """Plan stacks offline: every resource, its inputs and dependencies, with secrets redacted."""
    texts = plan_texts(stack_files(stacks or [], stacks_dir), use_cache=not no_cache)
    fmt = output_format(fmt, as_json)
    if fmt == "json":
        emit(plans_json(texts))
        return
    for stack_plan in map(json.loads, texts):
        if fmt == "markdown":
            with markdown_block(f"{stack_plan['stack']}: plan", console):
                console.print(plan_tree(stack_plan, show_all))
        else:
            console.print(plan_tree(stack_plan, show_all))


@app.command()
def graph(
    stack: Annotated[str, typer.Argument(help="The stack to draw (a name or a file).")],
    stacks_dir: StacksDir = Path("stacks"),
    fmt: Annotated[
        Literal["mermaid", "dot", "json"],
        typer.Option(
            "--format",
            case_sensitive=False,
            help="mermaid (a flowchart), dot (Graphviz) or json (nodes and edges).",
        ),
    ] = "mermaid",
    as_json: JsonFlag = False,
) -> None:
    """Print a stack's resources and their dependencies: Mermaid, Graphviz DOT or JSON."""
    (stack_plan,) = plan_files(stack_files([stack], stacks_dir))
    sys.stdout.write(GRAPH_FORMATS[output_format(fmt, as_json)](stack_plan))


@app.command()
def render(
    stack: Annotated[str, typer.Argument(help="The stack to render (a name or a file).")],
    out: Annotated[
        str,
        typer.Option(
            "--out",
            help="Folder to write the YAML files into; files an earlier render wrote there and "
            "this one does not are removed, other files are kept.",
        ),
    ],
    stacks_dir: StacksDir = Path("stacks"),
) -> None:
    """Write the stack's Kubernetes objects as YAML, one file each, secrets redacted."""
    from .render import helm_releases, write_manifests

    if not out.strip():
        raise SettingsError(
            "-", "--out", "is empty", "name the folder to write to, e.g. --out build/k8s"
        )
    folder = Path(out)
    _check_writable(folder)
    (stack_plan,) = plan_files(stack_files([stack], stacks_dir))
    try:
        files = write_manifests(stack_plan, folder)
    except OSError as error:
        raise SettingsError(
            "-",
            "--out",
            f"cannot write to {folder} ({error.strerror})",
            "name a folder you can write",
        ) from None
    console.print(f"{len(files)} objects written to {folder}")
    releases = helm_releases(stack_plan)
    if releases:
        # Not an error: the chart renders these at deploy time, and offline there is no chart.
        sys.stderr.write(
            f"llmplane render: {len(releases)} Helm releases are not rendered, for Helm renders "
            f"their charts at deploy time: {', '.join(releases)}\n"
        )


def _check_writable(folder: Path) -> None:
    """Refuse an --out that cannot be a folder, before anything is planned or written."""
    if folder.exists() and not folder.is_dir():
        raise SettingsError("-", "--out", f"{folder} is not a folder", "name a folder to write to")
    above = next((p for p in folder.absolute().parents if p.exists()), None)
    if above is not None and not above.is_dir():
        raise SettingsError(
            "-", "--out", f"{folder} is below {above}, which is a file", "name a folder to write to"
        )
    if in_kernel_fs(folder):
        raise SettingsError(
            "-", "--out", f"{folder} is in a kernel file system", "name a folder on a disk"
        )


app.command("check")(check)
app.command("size")(size)
app.command("compare")(compare_command)
app.command("cost")(cost)
app.command("smoke")(smoke)
app.command("bench")(bench)
app.add_typer(prices_app, name="prices")


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: every failure becomes an exit code and, at most, one line.

    Bad input is one line in one of two shapes (see grammar.py): `stack X: key: ...` for a stack
    file, `llmplane <command>: <flag>: ...` for the command line.
    """
    args = list(argv) if argv is not None else sys.argv[1:]
    with no_cyclic_collection():
        code = _dispatch(args)
    sys.exit(code if isinstance(code, int) else EXIT_OK)


def _dispatch(args: list[str]) -> object:
    """Run the command; bad input and failed checks exit here, with their one line."""
    try:
        return app(args=args, prog_name="llmplane", standalone_mode=False)
    except SettingsError as error:
        _fail(error_line(error, command_path(args, app)))
    except EndpointError as error:
        # A live endpoint failed a check: one line and exit 1, for the input was fine.
        sys.stderr.write(f"{error}\n")
        sys.exit(EXIT_VIOLATIONS)
    except typer.TyperException as error:
        # Typer's usage errors span several lines; the contract is one line and exit code 2.
        if not error.format_message().strip():
            # A bare `llmplane` (or a group without a command) has just printed its help.
            sys.exit(EXIT_OK)
        _fail(usage_line(error, command_path(args, app)))
    except typer.Abort:
        _fail(f"{command_path(args, app)}: interrupted")
    except OSError as error:
        # A path the user gave that the system refuses (too long, a loop, no permission) and that
        # no command checked first: still bad input, not a crash.
        if error.filename is None:
            raise
        _fail(f"{command_path(args, app)}: {error.filename}: {error.strerror}; check the path")


def run() -> NoReturn:
    """The installed `llmplane` command: main(), then exit without tearing the interpreter down.

    Nothing is left to clean up by then: worker processes have been joined, and no file is open
    for writing.
    """
    try:
        main()
    except SystemExit as done:
        code = done.code
    else:
        code = EXIT_OK
    exit_without_teardown(
        code if isinstance(code, int) else EXIT_OK if code is None else EXIT_VIOLATIONS
    )


def _fail(message: str) -> NoReturn:
    line = " ".join(message.split())
    sys.stderr.write("".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in line) + "\n")
    sys.exit(EXIT_BAD_INPUT)


if __name__ == "__main__":
    run()
