"""`llmplane smoke` and `llmplane bench`: verify and measure a live endpoint via huggingface_hub."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ..config.errors import EndpointError, SettingsError
from ..endpoint.target import (
    DEFAULT_TOKEN_ENV,
    Target,
    resolve_target,
    stack_file,
    stack_file_settings,
)
from .grammar import FormatOption, JsonFlag, output_format
from .plan_view import cold_start_in
from .terminal import markdown_block

if TYPE_CHECKING:
    from ..endpoint.client import Failure
    from ..endpoint.loadtest import Outcome
    from ..endpoint.smoke import SmokeReport

# huggingface_hub and the endpoint modules are imported inside the commands: the CLI's other
# commands must not pay for loading them.

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        help="Endpoint base URL, e.g. http://127.0.0.1:8080 after `kubectl port-forward`.",
    ),
]
StackOption = Annotated[
    str | None,
    typer.Option(
        "--stack",
        help="Read the URL, model and engine from the stack's outputs (`pulumi stack output "
        "--json`; needs the Pulumi CLI, or --outputs). publicEndpoint is preferred; the "
        "in-cluster endpoint works only inside the cluster or through kubectl port-forward.",
    ),
]
OutputsOption = Annotated[
    Path | None,
    typer.Option(
        "--outputs", help="The stack's outputs as `pulumi stack output --json` wrote them."
    ),
]
StacksDirOption = Annotated[
    Path,
    typer.Option("--stacks-dir", help="Folder of Pulumi.<stack>.yaml (for the startup budget)."),
]
EngineOption = Annotated[
    str | None,
    typer.Option("--engine", help="tgi, vllm or sglang; default: the stack's, else probed."),
]
ModelOption = Annotated[
    str | None,
    typer.Option("--model", help="The model id the endpoint must serve; default: the stack's."),
]
TokenEnvOption = Annotated[
    str | None,
    typer.Option(
        "--token-env",
        help=f"Environment variable holding the API key, sent as a Bearer token and never "
        f"printed; default {DEFAULT_TOKEN_ENV} when set. The machine's Hugging Face token is "
        "never sent unless named here.",
    ),
]
TimeoutOption = Annotated[
    float,
    typer.Option("--timeout", min=0.01, help="Seconds without an answer before a request fails."),
]


def smoke(
    url: UrlOption = None,
    stack: StackOption = None,
    outputs: OutputsOption = None,
    stacks_dir: StacksDirOption = Path("stacks"),
    engine: EngineOption = None,
    model: ModelOption = None,
    token_env: TokenEnvOption = None,
    wait: Annotated[
        float | None,
        typer.Option(
            "--wait",
            min=0,
            help="Seconds to wait for a loading endpoint; default: the stack's startup budget "
            "(from its stack file), else 600.",
        ),
    ] = None,
    timeout: TimeoutOption = 60.0,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", min=1, help="Tokens per test generation.")
    ] = 16,
    fmt: FormatOption = "table",
    as_json: JsonFlag = False,
) -> None:
    """Check a live endpoint: health, model, generation, chat and streams via huggingface_hub."""
    from ..endpoint.smoke import smoke as run_smoke

    target = _target(url, stack, outputs, stacks_dir, engine, model, token_env, wait)
    with _waiting(target) as on_wait:
        report = run_smoke(
            target,
            timeout=timeout,
            max_new_tokens=max_new_tokens,
            on_wait=on_wait,
            budget=_cold_start_estimate(target),
        )
    chosen = output_format(fmt, as_json)
    if chosen == "json":
        _emit(target, json.dumps(report.to_json(), indent=2, sort_keys=True))
    elif chosen == "markdown":
        with markdown_block(f"smoke {target.redact(target.display_url)}"):
            _smoke_lines(target, report)
    else:
        _smoke_lines(target, report)
    failure = report.failure_line()
    if failure is not None:
        raise EndpointError(failure)


def _smoke_lines(target: Target, report: SmokeReport) -> None:
    """The table view of a smoke run: one line per check, then the verdict."""
    _emit(
        target,
        f"llmplane smoke {target.display_url}: {target.model or 'any model'} on "
        f"{report.engine or target.engine or 'an unknown engine'}; auth: {target.auth}",
    )
    for check in report.checks:
        # A failure's detail already says how many attempts it took.
        retried = check.attempts > 1 and check.status == "ok"
        attempts = f" ({check.attempts} attempts)" if retried else ""
        _emit(target, f"  {check.status:8} {check.name:16} {check.detail}{attempts}")
    ready = report.budget_line()
    if ready is not None:
        _emit(target, f"  {ready}")
    if report.failed is None:
        skipped = sum(1 for c in report.checks if c.status == "skipped")
        passed = len(report.checks) - skipped
        _emit(target, f"smoke passed: {passed} checks ok, {skipped} skipped")


def _sized_concurrency(stack: str | None, stacks_dir: Path) -> int:
    """The concurrency the stack was sized for (llmplane:model.concurrency): bench's default."""
    path = stack_file(stack, stacks_dir)
    if path is None:
        where = "with --url" if stack is None else f"without {stacks_dir}/Pulumi.{stack}.yaml"
        raise SettingsError(
            "-", "--concurrency", f"is required {where}", "pass --concurrency N (requests at once)"
        )
    return stack_file_settings(path).model.concurrency


def _cold_start_estimate(target: Target) -> float | None:
    """The stack's cold-start estimate (its `gpu` output), to compare the measured wait with."""
    cold = cold_start_in(target.gpu)
    total = cold.get("totalSeconds") if cold is not None else None
    return float(total) if isinstance(total, int | float) else None


def bench(
    requests: Annotated[
        int, typer.Option("--requests", min=1, max=10_000_000, help="Requests to send in all.")
    ],
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency",
            min=1,
            max=10_000,
            help="Requests in flight at once; with --stack, default: the stack file's "
            "llmplane:model.concurrency, the load it was sized for.",
        ),
    ] = None,
    url: UrlOption = None,
    stack: StackOption = None,
    outputs: OutputsOption = None,
    stacks_dir: Annotated[
        Path,
        typer.Option(
            "--stacks-dir",
            help="Folder of Pulumi.<stack>.yaml, as for smoke: with --stack, the stack file gives "
            "the default --concurrency.",
        ),
    ] = Path("stacks"),
    engine: EngineOption = None,
    model: ModelOption = None,
    token_env: TokenEnvOption = None,
    prompt_file: Annotated[
        Path | None,
        typer.Option("--prompt-file", help="One prompt per line; default: 8 built-in prompts."),
    ] = None,
    max_new_tokens: Annotated[
        int, typer.Option("--max-new-tokens", min=1, help="Most output tokens per request.")
    ] = 128,
    timeout: TimeoutOption = 120.0,
    max_error_rate: Annotated[
        float,
        typer.Option(
            "--max-error-rate",
            min=0.0,
            max=1.0,
            help="Exit 1 when a larger share of requests fails (the report prints anyway).",
        ),
    ] = 0.01,
    fmt: FormatOption = "table",
    as_json: JsonFlag = False,
) -> None:
    """Load a live endpoint with streamed chat completions: latency, TTFT, tokens/s, errors."""
    from ..endpoint.loadtest import (
        BUILTIN_PROMPTS,
        LoadSpec,
        read_prompts,
        report_lines,
        run_load,
    )
    from ..endpoint.loadtest import summary as summarize
    from ..endpoint.smoke import smoke as run_smoke

    # No waiting: a bench measures a ready endpoint; `llmplane smoke` waits for one.
    target = _target(url, stack, outputs, stacks_dir, engine, model, token_env, 0.0)
    concurrency = concurrency or _sized_concurrency(stack, stacks_dir)
    prompts = read_prompts(prompt_file) if prompt_file is not None else BUILTIN_PROMPTS
    spec = LoadSpec(
        # More workers than requests would idle: the report gives the concurrency there was.
        concurrency=min(concurrency, requests),
        requests=requests,
        max_new_tokens=max_new_tokens,
        timeout=timeout,
        prompts=prompts,
        prompt_source=str(prompt_file) if prompt_file is not None else "built-in",
    )
    ready = run_smoke(target, timeout=timeout, max_new_tokens=1, checks=("health", "model"))
    failure = ready.failure_line("bench")
    if failure is not None:
        loading = ready.failed is not None and ready.failed.name == "health"
        hint = " (`llmplane smoke` waits for a loading endpoint)" if loading else ""
        raise EndpointError(failure + hint)
    served = ready.served_model
    with _progress(requests) as on_done:
        run = run_load(target, served, spec, on_done)
    document = summarize(run, target, ready.engine, target.model or served, spec)
    chosen = output_format(fmt, as_json)
    if chosen == "json":
        _emit(target, json.dumps(document, indent=2, sort_keys=True))
    elif chosen == "markdown":
        with markdown_block(f"bench {target.redact(target.display_url)}"):
            for line in report_lines(document):
                _emit(target, line)
    else:
        for line in report_lines(document):
            _emit(target, line)
    _judge(target, document, max_error_rate)


def _judge(target: Target, document: dict[str, Any], max_error_rate: float) -> None:
    """Exit 1 (after the report) when nothing succeeded or too much failed."""
    kinds = ", ".join(f"{kind} x{count}" for kind, count in document["errors"].items())
    where = f"bench failed for {target.display_url}"
    if document["succeeded"] == 0:
        first = next(iter(document["errorExamples"].values()), "")
        raise EndpointError(
            target.redact(f"{where}: all {document['requests']} requests failed ({kinds}): {first}")
        )
    if document["errorRate"] > max_error_rate:
        raise EndpointError(
            target.redact(
                f"{where}: error rate {document['errorRate']:.1%} is over --max-error-rate "
                f"{max_error_rate:.1%} ({kinds})"
            )
        )


def _target(
    url: str | None,
    stack: str | None,
    outputs: Path | None,
    stacks_dir: Path,
    engine: str | None,
    model: str | None,
    token_env: str | None,
    wait: float | None,
) -> Target:
    return resolve_target(
        url=url,
        stack=stack,
        outputs_file=outputs,
        stacks_dir=stacks_dir,
        engine=engine,
        model=model,
        token_env=token_env,
        wait=wait,
        environ=os.environ,
    )


def _emit(target: Target, text: str) -> None:
    # Everything printed passes through redact: servers may quote the key back in errors.
    sys.stdout.write(target.redact(text) + "\n")


def _stderr_console() -> Any:
    from rich.console import Console

    # Progress goes to stderr, so `--json > file` stays clean; only on a terminal, so that a
    # failure in CI is still exactly one line on stderr.
    return Console(stderr=True, highlight=False)


@contextmanager
def _waiting(target: Target) -> Iterator[Callable[[Failure, float, float], None]]:
    """A status line on stderr while smoke waits for a loading endpoint (terminals only)."""
    console = _stderr_console()
    if not console.is_terminal:
        yield lambda *_: None
        return
    with console.status("checking the endpoint") as status:

        def update(failure: Failure, pause: float, remaining: float) -> None:
            status.update(
                target.redact(
                    f"waiting for {target.display_url}: {failure.detail}; next try in "
                    f"{pause:.1f} s, {remaining:.0f} s left ({target.wait_source})"
                )
            )

        yield update


@contextmanager
def _progress(total: int) -> Iterator[Callable[[Outcome], None]]:
    """A rich progress bar on stderr, counting requests and failures (terminals only)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = _stderr_console()
    columns = (
        TextColumn("bench"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, disable=not console.is_terminal) as progress:
        task = progress.add_task("requests", total=total, failed=0)
        failed = 0

        def advance(outcome: Outcome) -> None:
            nonlocal failed
            failed += outcome.error is not None
            progress.update(task, advance=1, failed=failed)

        yield advance
