"""The program as Pulumi's Python language host runs it, against a loopback engine.

`pulumi preview` starts the language host, which runs `<venv>/bin/python
pulumi-language-python-exec --monitor <addr> --engine <addr> --project llmplane --root_directory
<repo> --stack <stack> --pwd <repo>/infra --dry_run true --parallel <4 x CPUs> --organization
organization .` in the program folder, with the stack's merged, decrypted config in PULUMI_CONFIG
and the names of its secret keys in PULUMI_CONFIG_SECRET_KEYS (sources in host_exec.py). The pulumi
wheel ships no exec script, so host_exec.py does what it does; the engine and resource monitor are
loopback_engine.py. Each stack runs twice: as a preview (`--dry_run true`: computed outputs
unknown, their applies not run) and as an update (`--dry_run false`: outputs known, as the SDK's
typed output classes, which is where reading them by their wire names warns).

For every shipped stack, and stacks with every secret set, each run must:
- exit 0, and send the engine no warning and no error (an SDK warning is what a user sees);
- register the same resources as the offline plan: types, names, parents;
- export the same stack outputs;
- carry every secret config value marked secret, and never as plain text.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from pulumi.runtime import rpc

from llmplane.infra.config.stackfile import read_stack_file
from tests.components.test_gateway import PUBLIC
from tests.conformance.cli_rules import load_project, merge_config, program_config, stack_values
from tests.conformance.loopback_engine import ROOT_STACK_TYPE, LoopbackEngine, Record
from tests.conftest import REPO, STACKS, config_with
from tests.plans import Plan, plan_config, shipped

HOST_EXEC = Path(__file__).with_name("host_exec.py")
PROJECT = load_project(REPO / "Pulumi.yaml")
PROGRAM_DIR = REPO / (PROJECT.main or ".")
# runtime.options.virtualenv, resolved against the project folder (resolveVirtualEnvironmentPath).
VENV = REPO / PROJECT.runtime["options"]["virtualenv"]
# The CLI's --parallel default: four per CPU (pkg/cmd/pulumi/operations/up.go defaultParallel).
PARALLEL = (os.cpu_count() or 1) * 4
# A run that takes longer has hung: the slowest stack previews in a few seconds.
RUN_TIMEOUT = 300


# Plausible decrypted values of the right shape, as the CLI would hand the program.
API_KEYS = ("3f9a" * 16, "c0de" * 16)
HF_TOKEN = "hf_" + "Qm7pX2vR9sLk4TnB8wYc3HdJ6fGa1ZeUo"
MIRROR_TOKEN = "ghp_" + "Z8kT3nQw5Rb7Lm2Xc9Vd4Hs6Jp1Fg0YaEu"
KUBECONFIG = """apiVersion: v1
kind: Config
clusters:
- name: gpu
  cluster: {server: "https://gpu.example.internal:6443", certificate-authority-data: TE9PUEJBQ0s=}
users:
- name: ci
  user: {token: kube-token-7f3c9a1e5b2d}
contexts:
- name: gpu
  context: {cluster: gpu, user: ci}
current-context: gpu
"""


def _self_signed() -> tuple[str, str]:
    """A real certificate and key from openssl, or the gateway tests' fixed PEMs without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return PUBLIC["tlsCertificate"], PUBLIC["tlsKey"]
    command = [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]
    command += ["-nodes", "-keyout", "-", "-out", "-", "-days", "1", "-subj", "/CN=llm.example"]
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        check=True,
    )
    key = result.stdout[: result.stdout.index("-----END PRIVATE KEY-----") + 26]
    certificate = result.stdout[result.stdout.index("-----BEGIN CERTIFICATE-----") :]
    return certificate, key


CERTIFICATE, PRIVATE_KEY = _self_signed()
PLAINTEXT = {
    "llmplane:apiKeys": ", ".join(API_KEYS),
    "llmplane:tlsKey": PRIVATE_KEY,
    "llmplane:hfToken": HF_TOKEN,
    "llmplane:mirrorToken": MIRROR_TOKEN,
    "kubernetes:kubeconfig": KUBECONFIG,
}
# The parts of a secret value that must never show: the whole, and each API key on its own.
SECRET_PARTS = {"llmplane:apiKeys": API_KEYS}
PUBLIC_CONFIG = {
    "llmplane:exposure": "public",
    "llmplane:tlsCertificate": CERTIFICATE,
    "llmplane:apiKeys": PLAINTEXT["llmplane:apiKeys"],
    "llmplane:tlsKey": PRIVATE_KEY,
    "llmplane:hfToken": HF_TOKEN,
}
PUBLIC_SECRETS = frozenset({"llmplane:apiKeys", "llmplane:tlsKey", "llmplane:hfToken"})


def _plaintext(key: str) -> str:
    """What `pulumi config set --secret` would have stored under a key, decrypted."""
    return PLAINTEXT.get(key, "5e" * 32)


@dataclass(frozen=True)
class Case:
    """One stack to run: its name, its config as read from a file, which keys are secret."""

    stack: str
    config: dict[str, Any]
    secret_keys: frozenset[str]
    shipped: bool = False


def _shipped_case(path: Path) -> Case:
    stack, config, secure = read_stack_file(path)
    # The CLI decrypts `secure:` values before the program sees them.
    decrypted = {key: _plaintext(key) if key in secure else value for key, value in config.items()}
    return Case(stack, decrypted, secure, shipped=not secure)


def _with_everything(path: Path, stack: str) -> Case:
    """A shipped managed-cloud stack, public, with every secret set and a registry mirror."""
    base = _shipped_case(path)
    config = {
        **base.config,
        **PUBLIC_CONFIG,
        "llmplane:mirrorUsername": "octocat",
        "llmplane:mirrorToken": MIRROR_TOKEN,
    }
    secrets = base.secret_keys | PUBLIC_SECRETS | {"llmplane:mirrorToken"}
    return Case(stack, config, secrets)


CASES = [_shipped_case(path) for path in sorted(STACKS.glob("Pulumi.*.yaml"))] + [
    # An existing cluster behind the public gateway, reached through a (secret) kubeconfig.
    Case(
        "public",
        {
            **config_with(**{k.split(":")[1]: v for k, v in PUBLIC_CONFIG.items()}),
            "kubernetes:kubeconfig": KUBECONFIG,
        },
        PUBLIC_SECRETS | {"kubernetes:kubeconfig"},
    ),
    _with_everything(STACKS / "Pulumi.azure-dev.yaml", "azure-secrets"),
]


@dataclass
class Run:
    """A finished run: what the engine recorded and how the process ended."""

    case: Case
    record: Record
    returncode: int
    output: str

    def problems(self) -> str:
        """The process output and the engine's errors, for a failure message."""
        logs = [f"{e.severity}: {e.message}" for e in self.record.logs if e.severity != "DEBUG"]
        errors = "\n".join(self.record.errors + logs)
        return f"exit {self.returncode}\n{errors}\n--- output ---\n{self.output[-4000:]}"


def _environment(config: dict[str, str], secret_keys: list[str]) -> dict[str, str]:
    """The host's environment: the caller's, with the venv activated and the stack's config.

    toolchain.ActivateVirtualEnv puts the venv's bin first on PATH, sets VIRTUAL_ENV and drops
    PYTHONHOME. PYTHONPATH and PULUMI_* settings of the shell running the tests are dropped too:
    the program must import from what the venv has installed, as under `pulumi preview`.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"PYTHONHOME", "PYTHONPATH", "VIRTUAL_ENV"} and not key.startswith("PULUMI_")
    }
    env["PATH"] = os.pathsep.join([str(VENV / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(VENV)
    env["PULUMI_CONFIG"] = json.dumps(config, sort_keys=True)
    env["PULUMI_CONFIG_SECRET_KEYS"] = json.dumps(secret_keys)
    return env


def _run(case: Case, exec_script: Path, dry_run: bool) -> Run:
    """Run one stack's program under the loopback engine, as `pulumi preview` (or `up`) would."""
    values = stack_values(case.config, case.secret_keys)
    config, secret_keys = program_config(merge_config(PROJECT, case.stack, values))
    python = VENV / "bin" / "python"
    with LoopbackEngine(
        PROJECT.name, case.stack, config, frozenset(secret_keys), parallel=PARALLEL, dry_run=dry_run
    ) as engine:
        arguments = {
            "monitor": engine.address,
            "engine": engine.address,
            "project": PROJECT.name,
            "root_directory": str(REPO),
            "stack": case.stack,
            "pwd": str(PROGRAM_DIR),
            "dry_run": "true" if dry_run else "false",
            "parallel": str(PARALLEL),
            "organization": engine.organization,
        }
        command = [str(python if python.exists() else sys.executable), str(exec_script)]
        for flag, value in arguments.items():
            command += [f"--{flag}", value]
        done = subprocess.run(
            [*command, "."],
            cwd=PROGRAM_DIR,
            env=_environment(config, secret_keys),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
            check=False,
        )
    return Run(case, engine.record, done.returncode, done.stdout + done.stderr)


def _offline(case: Case) -> Plan:
    """The offline plan of the same config."""
    if case.shipped:
        return shipped(case.stack)
    return plan_config(case.stack, case.config, case.secret_keys)


@dataclass
class Result:
    """A case's run, and its offline plan (or why planning it failed)."""

    run: Run
    plan: Plan | None
    plan_error: str | None

    def offline(self) -> Plan:
        """The offline plan; a test that needs it fails with the planner's error."""
        if self.plan is None:
            pytest.fail(f"the offline plan of {self.run.case.stack} failed: {self.plan_error}")
        return self.plan


def _try_offline(case: Case) -> tuple[Plan | None, str | None]:
    try:
        return _offline(case), None
    except Exception as error:  # a broken plan fails the tests that compare with it, only
        return None, f"{type(error).__name__}: {error}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Every case previewed and updated side by side, and planned offline meanwhile."""
    # The real script sits among the CLI's binaries: sys.path[0] holds no Python modules.
    folder = tmp_path_factory.mktemp("pulumi-bin")
    exec_script = folder / "pulumi-language-python-exec"
    shutil.copyfile(HOST_EXEC, exec_script)
    with ThreadPoolExecutor(max_workers=2 * len(CASES)) as pool:
        started = {
            f"{case.stack}-{mode}": pool.submit(_run, case, exec_script, mode == "preview")
            for case in CASES
            for mode in MODES
        }
        plans = {case.stack: _try_offline(case) for case in CASES}
        results = {}
        for key, future in started.items():
            run = future.result()
            results[key] = Result(run, *plans[run.case.stack])
        return results


MODES = ("preview", "update")
CASE_IDS = [f"{case.stack}-{mode}" for case in CASES for mode in MODES]


@pytest.mark.parametrize("stack", CASE_IDS)
def test_the_program_succeeds_without_warnings(runs: dict[str, Result], stack: str) -> None:
    run = runs[stack].run
    assert run.returncode == 0, run.problems()
    assert not run.record.errors, run.problems()
    loud = [entry for entry in run.record.logs if entry.severity in ("WARNING", "ERROR")]
    assert not loud, run.problems()
    # The SDK registered the stack first, and waited for the engine at the end.
    name = run.case.stack
    assert (
        _stack_urn(run)
        == f"urn:pulumi:{name}::{PROJECT.name}::{ROOT_STACK_TYPE}::{PROJECT.name}-{name}"
    )
    assert run.record.calls.get("SignalAndWaitForShutdown") == 1


def _stack_urn(run: Run) -> str:
    """The URN of the stack resource the program registered."""
    (urn,) = [r.urn for r in run.record.registrations.values() if r.type == ROOT_STACK_TYPE]
    return urn


Path_ = tuple[tuple[str, str], ...]


def _paths(resources: dict[str, tuple[str, str, str, bool]]) -> set[tuple[Path_, bool]]:
    """Each resource as the chain of (type, name) from the stack down, and whether it is custom.

    URNs themselves differ: the offline mock monitor builds them its own way (see
    test_offline_urns_are_the_engines).
    """

    def path(urn: str) -> Path_:
        type_, name, parent, _ = resources[urn]
        return (*(path(parent) if parent in resources else ()), (type_, name))

    return {(path(urn), custom) for urn, (_, _, _, custom) in resources.items()}


def _registered_resources(run: Run) -> dict[str, tuple[str, str, str, bool]]:
    return {r.urn: (r.type, r.name, r.parent, r.custom) for r in run.record.registrations.values()}


def _plan_resources(plan: Plan) -> dict[str, tuple[str, str, str, bool]]:
    return {
        r["urn"]: (r["type"], r["name"], r["parent"] or "", r["custom"]) for r in plan["resources"]
    }


@pytest.mark.parametrize("stack", CASE_IDS)
def test_it_registers_what_the_offline_plan_does(runs: dict[str, Result], stack: str) -> None:
    run, plan = runs[stack].run, runs[stack].offline()
    assert run.returncode == 0, run.problems()
    previewed, planned = _paths(_registered_resources(run)), _paths(_plan_resources(plan))
    assert previewed == planned, {
        "only in the run": sorted(previewed - planned),
        "only offline": sorted(planned - previewed),
    }
    # Every parent is a resource registered before it.
    for registration in run.record.registrations.values():
        assert (
            registration.type == ROOT_STACK_TYPE or registration.parent in run.record.registrations
        )
    assert sorted(run.record.outputs.get(_stack_urn(run), {})) == sorted(plan["outputs"])


def test_offline_urns_are_the_engines(runs: dict[str, Result]) -> None:
    run, plan = runs["kubernetes-dev-preview"].run, runs["kubernetes-dev-preview"].offline()
    assert set(run.record.registrations) == {r["urn"] for r in plan["resources"]}


def _split_secrets(value: Any) -> tuple[Any, list[Any]]:
    """A wire value with every secret replaced by a marker, and the secrets' own values."""
    secrets: list[Any] = []

    def walk(item: Any) -> Any:
        if isinstance(item, dict):
            if item.get(rpc._special_sig_key) == rpc._special_secret_sig:
                secrets.append(item.get("value"))
                return "[secret]"
            return {key: walk(inner) for key, inner in item.items()}
        if isinstance(item, list):
            return [walk(inner) for inner in item]
        return item

    return walk(value), secrets


def _forms(text: str) -> Iterator[str]:
    """A secret as it may appear: as is, base64-encoded (a Kubernetes Secret's data)."""
    yield text
    yield base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("stack", CASE_IDS)
def test_secret_config_reaches_the_engine_only_marked_secret(
    runs: dict[str, Result], stack: str
) -> None:
    run = runs[stack].run
    assert run.returncode == 0, run.problems()
    # Wire values as JSON text (newlines escaped), and what the program printed or logged.
    plain, inside, printed = [], [], [entry.message for entry in run.record.logs]
    for registration in run.record.registrations.values():
        outside, secrets = _split_secrets(registration.object)
        plain.append(json.dumps([registration.urn, outside]))
        inside.append(json.dumps(secrets))
    for urn, outputs in run.record.outputs.items():
        outside, secrets = _split_secrets(outputs)
        plain.append(json.dumps([urn, outside]))
        inside.append(json.dumps(secrets))
    printed.append(run.output)
    plain_text, secret_text, printed_text = "\n".join(plain), "\n".join(inside), "\n".join(printed)
    for key in sorted(run.case.secret_keys):
        value = str(run.case.config[key])
        parts = SECRET_PARTS.get(key, (value,))
        for part in {value, *parts}:
            for form in _forms(part):
                assert _escaped(form) not in plain_text, f"{key} reaches the engine unmarked"
                assert form not in printed_text, f"{key} is printed or logged"
        for part in parts:
            found = any(_escaped(form) in secret_text for form in _forms(part))
            assert found, f"{key} never reached the engine"


def _escaped(text: str) -> str:
    """Text as json.dumps writes it inside a string, as the recorded wire values are."""
    return json.dumps(text)[1:-1]
