"""What every `llmplane` command shares: its stack arguments, its options and its error lines.

One error rule, for every command (exit 2, one line on stderr, nothing written):

- A problem inside a stack file names the stack and the key:
  `stack <stack>: <key>: <what is wrong>; <what would be right>`.
- A problem on the command line (a flag, an argument, a file a flag names) names the command and
  the flag: `llmplane <command>: <flag>: <what is wrong>; <what would be right>`.

`SettingsError(stack, key, problem, fix)` carries both: `stack` "-" marks a command-line problem,
which `error_line` prefixes with the command. Typer's own usage errors are rewritten into the
same shape by `usage_line`. A hint that offers values lists every valid value, or, when there are
many, the nearest ones by edit distance (`one_of`, through config.errors.choices, which the
settings' errors use too).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, cast

import typer

from ..config.errors import SettingsError, choices
from ..config.stackfile import stack_name

if TYPE_CHECKING:
    from ..config.settings import StackSettings
    from ..offline.synth import Plan

StacksDir = Annotated[
    Path,
    typer.Option("--stacks-dir", help="Folder holding the Pulumi.<stack>.yaml files."),
]
FormatName = TypeVar("FormatName", bound=str)
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON: the same as --format json.")]
"""`--json`, on every command that prints a report: a shorthand for `--format json`."""


ReportFormat = Literal["table", "json", "markdown"]
FormatOption = Annotated[
    ReportFormat,
    typer.Option(
        "--format", case_sensitive=False, help="table (for people), json, or markdown (for a PR)."
    ),
]
"""`--format`, on every command that prints a report (`check` adds sarif)."""


def output_format(fmt: FormatName, as_json: bool) -> FormatName:
    """The format a command prints: `--json` wins, as the shorthand for `--format json`.

    Every `--format` it is used with offers `json`.
    """
    return cast(FormatName, "json") if as_json else fmt


StackNames = Annotated[
    list[str] | None,
    typer.Argument(help="Stack names or paths to stack files; default: every stack."),
]


def one_of(value: str, valid: Iterable[str]) -> str:
    """`use one of: a, b, c`: every valid value, or the nearest to `value` (config.errors)."""
    names = sorted(set(valid))
    if not names:
        return "none is available"
    return f"use one of: {choices(value, names)}"


def error_line(error: SettingsError, command: str) -> str:
    """The one line for a bad input: a stack's problem as it is, a flag's after its command."""
    text = str(error)
    return text if error.stack != "-" else f"{command}: {text}"


def command_path(argv: Sequence[str], app: typer.Typer) -> str:
    """`llmplane <command>` for the command argv runs (`llmplane prices import` for a group)."""
    from typer.main import get_command

    words = ["llmplane"]
    group: Any = get_command(app)
    for arg in argv:
        if arg.startswith("-"):
            continue
        commands = getattr(group, "commands", None)
        if not commands or arg not in commands:
            break
        words.append(arg)
        group = commands[arg]
    return " ".join(words)


def usage_line(error: Exception, fallback: str) -> str:
    """Typer's usage error (several lines, its own wording) as one line in the shared shape."""
    ctx = getattr(error, "ctx", None)
    # main() runs the app with prog_name="llmplane", so the context's path is the command's.
    command = ctx.command_path if ctx is not None else fallback
    help_hint = f"see `{command} --help`"
    kind = type(error).__name__
    message = " ".join(getattr(error, "message", str(error)).split())
    if kind == "NoSuchOption":
        name = getattr(error, "option_name", "") or message
        options = _options(ctx)
        hint = one_of(name, options) if options else help_hint
        return f"{command}: {name}: is not an option of `{command}`; {hint}"
    if kind == "BadParameter" and getattr(error, "param", None) is not None:
        param = error.param  # type: ignore[attr-defined]
        flag = _flag(param)
        found = re.search(r"'(.*)' is not one of (.*?)\.?$", message)
        if found:
            choices = re.findall(r"'([^']*)'", found.group(2))
            value = found.group(1)
            return f"{command}: {flag}: {value!r} is not valid; {one_of(value, choices)}"
        problem = message.removeprefix("Value error, ").rstrip(".")
        # Lower case, as the stack-file messages are: "input should be a valid integer".
        return f"{command}: {flag}: {problem[:1].lower()}{problem[1:]}; {help_hint}"
    if kind == "MissingParameter":
        param = getattr(error, "param", None)
        flag = _flag(param) if param is not None else "argument"
        return f"{command}: {flag}: is missing; {help_hint}"
    if kind == "BadOptionUsage":
        flag = getattr(error, "option_name", "") or "option"
        return f"{command}: {flag}: {message.rstrip('.')}; {help_hint}"
    found = re.match(r"No such command '(.*)'", message)
    if found:
        names = sorted(getattr(ctx.command, "commands", {}) if ctx else ())
        return f"{command}: {found.group(1)}: is not a command; {one_of(found.group(1), names)}"
    return f"{command}: {message.rstrip('.')}; {help_hint}"


def _flag(param: Any) -> str:
    opts = [opt for opt in getattr(param, "opts", []) if opt.startswith("--")]
    if opts:
        return opts[0]
    return str(getattr(param, "name", None) or "argument").upper()


def _options(ctx: Any) -> list[str]:
    if ctx is None:
        return []
    return [
        opt
        for param in ctx.command.params
        for opt in getattr(param, "opts", [])
        if opt.startswith("--") and not getattr(param, "hidden", False)
    ] + ["--help"]


def in_kernel_fs(path: Path) -> bool:
    """Is the path in /proc or /sys, where even root cannot create files?"""
    absolute = path.absolute()
    return any(absolute.is_relative_to(root) for root in ("/proc", "/sys"))


# --- stacks -------------------------------------------------------------------------------


def is_path(name: str) -> bool:
    """Does a STACK argument name a file (`stacks/Pulumi.aws-dev.yaml`) rather than a stack?"""
    return "/" in name or name.endswith((".yaml", ".yml"))


def stack_files(names: Sequence[str], stacks_dir: Path) -> list[Path]:
    """The stack files to work on: the named stacks or files, or every Pulumi.*.yaml in the folder.

    A name with a slash or a .yaml ending is a path to a stack file, so that shell completion of
    `llmplane plan stacks/Pulumi.aws-dev.yaml` works; the stack is then named after the file.
    """
    chosen: list[Path] = []
    if all(is_path(name) for name in names) and names:
        available: list[Path] = []
    else:
        if not stacks_dir.is_dir():
            raise SettingsError(
                "-",
                "--stacks-dir",
                f"{stacks_dir} is not a folder",
                "point it at the stacks folder",
            )
        available = sorted(stacks_dir.glob("Pulumi.*.yaml"))
    if not names:
        if not available:
            raise SettingsError(
                "-", "--stacks-dir", f"{stacks_dir} holds no Pulumi.<stack>.yaml", "add a stack"
            )
        return available
    for name in names:
        if is_path(name):
            path = Path(name)
            if not path.is_file():
                raise SettingsError(
                    "-", "STACK", f"{name} is not a file", "name a Pulumi.<stack>.yaml file"
                )
        else:
            path = stacks_dir / f"Pulumi.{name}.yaml"
            if not path.is_file():
                known = [p.name[len("Pulumi.") : -len(".yaml")] for p in available]
                raise SettingsError(
                    "-", "STACK", f"there is no stack {name} in {stacks_dir}", one_of(name, known)
                )
        chosen.append(path)
    seen: dict[str, Path] = {}
    for path in chosen:
        stack = stack_name(path)
        if stack in seen and seen[stack].resolve() != path.resolve():
            raise SettingsError(
                "-",
                "STACK",
                f"{seen[stack]} and {path} are both stack {stack}",
                "plan one of them at a time",
            )
        seen[stack] = path
    return chosen


def plan_texts(paths: Sequence[Path], use_cache: bool = True) -> list[str]:
    """Each stack's plan as the JSON text `plan --json` prints: cached where inputs are unchanged.

    Every stack to plan is read and parsed first, so one bad file stops the run before anything
    is planned (see offline/cache.py).
    """
    from ..config.stackfile import read_stack_file
    from ..offline.cache import plan_through_cache

    def parse(stack: str, config: dict[str, Any], secret_keys: frozenset[str]) -> StackSettings:
        # Imported only for a stack to plan: pydantic and the settings take a tenth of a second,
        # which a run whose plans are all cached never pays.
        from ..config.settings import parse as parse_settings

        return parse_settings(stack, config, secret_keys)

    return plan_through_cache(paths, read_stack_file, parse, use_cache)


def plan_files(paths: Sequence[Path], use_cache: bool = True) -> list[Plan]:
    """Each stack's plan (see plan_texts)."""
    return [json.loads(text) for text in plan_texts(paths, use_cache)]


def plans_json(texts: Sequence[str]) -> str:
    """`{"stacks": [Plan, …]}` from the plans' texts, byte for byte what json.dumps would give.

    json.dumps(indent=2) of a list nests each item two levels deeper, which is its own text
    with every line indented by four spaces; splicing saves re-encoding megabytes of JSON.
    """
    if not texts:
        return json.dumps({"stacks": []}, indent=2, sort_keys=True)
    # JSON text has no blank line and no raw newline inside a string: every line gets the indent.
    items = ",\n".join("    " + text.replace("\n", "\n    ") for text in texts)
    return '{\n  "stacks": [\n' + items + "\n  ]\n}"


def plan_each(paths: Sequence[Path]) -> tuple[list[tuple[Path, Plan]], list[SettingsError]]:
    """Plan every stack that is valid, and say why each of the others is not.

    For commands that report on many stacks (`check`): one bad stack must not hide the others.
    """
    from ..offline import enable

    enable()
    from ..offline import parallel
    from ..offline.synth import parse_stack_file

    errors: list[SettingsError] = []
    parsed = []
    for path in paths:
        try:
            parsed.append((path, parse_stack_file(path)))
        except SettingsError as error:
            errors.append(error)
    # The cloud adapters' checks run in the planning workers, which report each refused stack
    # and plan the others in the same pass.
    planned: list[tuple[Path, Plan]] = []
    outcomes = parallel.plan_each([stack for _, stack in parsed])
    for (path, _), outcome in zip(parsed, outcomes, strict=True):
        if isinstance(outcome, SettingsError):
            errors.append(outcome)
        else:
            planned.append((path, outcome))
    order = {stack_name(path): index for index, path in enumerate(paths)}
    errors.sort(key=lambda error: order.get(error.stack, len(order)))
    return planned, errors
