"""The offline engine: runs the real infra/__main__.py under Pulumi's mock runtime into a Plan."""

from __future__ import annotations

import copy
import json
import logging
import runpy
from pathlib import Path
from typing import Any

import pulumi
from google.protobuf import json_format
from pulumi.runtime import mocks as pulumi_mocks
from pulumi.runtime import rpc
from pulumi.runtime import settings as runtime_settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from llmplane.components.naming import PROJECT
from llmplane.policies.rules import SECRET

from ..cloud_args import cluster_for, engine_workload
from ..config.settings import StackSettings, parse
from ..config.stackfile import read_stack_file
from ..sizing.cost import expected_gpu_nodes, price_plan
from ..sizing.serving import serving_for
from .mocks import PlanMocks, with_auto_name

PROGRAM = Path(__file__).parents[1] / "__main__.py"
# The one redaction marker, shared with the policies that read plans.
REDACTED = SECRET

Plan = dict[str, Any]
_ROOT_STACK_TYPE = "pulumi:pulumi:Stack"

# The program's pulumi.log messages have no engine to go to offline; keep them off stderr.
_QUIET = logging.getLogger(f"{PROJECT}.synth")
_QUIET.addHandler(logging.NullHandler())
_QUIET.propagate = False


class CapturingMonitor(pulumi_mocks.MockMonitor):
    """The mock monitor, plus a record of what the engine would see: parents, providers, deps."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.captured: dict[str, dict[str, Any]] = {}

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        """The URN the engine gives (pkg/resource/deploy/deployment.go `generateURN`).

        The SDK's mock keeps only the parent's last type and keeps the root stack's; the engine
        uses the parent's whole qualified type and leaves the root stack's out, and policies,
        `pulumi preview --json` and `pulumi stack export` all name resources by that URN.
        """
        qualified = parent.split("::")[2] if parent else ""
        if qualified and qualified != _ROOT_STACK_TYPE:
            type_ = f"{qualified}${type_}"
        return "urn:pulumi:" + "::".join([pulumi.get_stack(), pulumi.get_project(), type_, name])

    def RegisterResource(self, request: Any) -> Any:
        """Register as the mock monitor does, and keep the request as the plan sees it."""
        response = super().RegisterResource(request)
        wire = json_format.MessageToDict(request.object)
        if request.custom:
            # What the provider's Check hands the engine and the policies: with its auto-name.
            wire = with_auto_name(request.type, request.name, wire, pulumi.get_stack())
        self.captured[response.urn] = {
            "urn": response.urn,
            "type": request.type,
            "name": request.name,
            "parent": request.parent or None,
            "custom": bool(request.custom),
            "provider": _provider_urn(request.provider),
            "dependencies": sorted(set(request.dependencies)),
            "inputs": _inputs(request.type, wire),
        }
        return response


def _provider_urn(reference: str) -> str | None:
    """A provider reference is `<urn>::<id>`; the plan keeps the URN, which is stable."""
    return reference.rsplit("::", 1)[0] if reference else None


# pulumi_kubernetes marks a Secret's whole `data` and `stringData` map secret, so one redaction
# marker would replace the map: the key names (which pods mount by name, and which Kubernetes never
# hides: `kubectl describe secret` lists them) would be lost, and `stringData: "[secret]"` is not
# an object the API server accepts. For these fields the plan keeps the keys and redacts each value.
_KEYED_SECRET_MAPS: dict[str, frozenset[str]] = {
    "kubernetes:core/v1:Secret": frozenset({"data", "stringData"}),
    "kubernetes:core/v1:SecretPatch": frozenset({"data", "stringData"}),
}


def _inputs(type_: str, wire: dict[str, Any]) -> dict[str, Any]:
    """A resource's wire inputs as plan JSON; a Kubernetes Secret keeps its key names."""
    keyed = _KEYED_SECRET_MAPS.get(type_, frozenset())
    return {
        key: _redact_values(value) if key in keyed else _plain(value)
        for key, value in sorted(wire.items())
    }


def _redact_values(value: Any) -> Any:
    """A Secret's map as `{key: "[secret]"}`: its key names kept, every value withheld."""
    if isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig:
        value = value.get("value")
    if isinstance(value, dict):
        return {str(key): REDACTED for key in sorted(value)}
    # An unknown map (a preview's computed value) or an unexpected shape: nothing to keep.
    return REDACTED if value is not None else None


def _plain(value: Any) -> Any:
    """Wire values -> plan JSON: secrets redacted, resource references as URNs, integers as ints."""
    if isinstance(value, dict):
        signature = value.get(rpc._special_sig_key)
        if signature == rpc._special_secret_sig:
            return REDACTED
        if signature == rpc._special_resource_sig:
            return value.get("urn")
        return {key: _plain(item) for key, item in sorted(value.items())}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    # protobuf Struct holds every number as a double; the program wrote integers.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if value == rpc.UNKNOWN:
        return "[unknown]"
    return value


def parse_stack_file(path: Path) -> tuple[StackSettings, dict[str, Any], frozenset[str]]:
    """Read a stack file and validate its settings; the cloud adapter's own checks come later."""
    stack, config, secret_keys = read_stack_file(path)
    return parse(stack, config, secret_keys), config, secret_keys


def validate_stack_file(path: Path) -> tuple[StackSettings, dict[str, Any], frozenset[str]]:
    """Read and validate a stack file fully; raise SettingsError before anything runs."""
    parsed = parse_stack_file(path)
    cluster_for(parsed[0], engine_workload(parsed[0]))
    return parsed


def plan_stack(path: Path) -> Plan:
    """Plan one stack file offline: validate it, run the program under mocks, capture everything."""
    return plan_validated(*validate_stack_file(path))


def stack_cost(settings: StackSettings, resources: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan's `cost` section: its resources priced in the stack's region."""
    serving = serving_for(settings)
    nodes = (
        expected_gpu_nodes(max(1, settings.replicas.min), serving.gpus, serving.shape.gpu_count)
        if serving.shape is not None
        else 0
    )
    region = settings.provider.region()
    return price_plan(resources, settings.cloud, region, nodes)


def plan_validated(
    settings: StackSettings, config: dict[str, Any], secret_keys: frozenset[str]
) -> Plan:
    """Plan a stack whose file `validate_stack_file` has already read and checked."""
    monitor = CapturingMonitor(PlanMocks())
    outputs = _run_program(settings.stack, config, secret_keys, monitor)
    resources = [monitor.captured[urn] for urn in sorted(monitor.captured)]
    return {
        "stack": settings.stack,
        "project": PROJECT,
        "cloud": settings.cloud,
        "resources": resources,
        "outputs": outputs,
        "cost": stack_cost(settings, resources),
        "violations": stack_violations(resources, settings.policy_waivers),
        "waivers": dict(sorted(settings.policy_waivers.items())),
    }


def stack_violations(
    resources: list[dict[str, Any]], waivers: dict[str, str]
) -> list[dict[str, Any]]:
    """The plan's `violations`: the policy pack's findings with default policy settings."""
    # Imported here: only planning needs the policy SDK, not `llmplane size` or `compare`.
    from llmplane.policies.offline import evaluate, from_plan

    report = evaluate(from_plan({"resources": resources}), waivers=waivers)
    return [finding.as_json() for finding in report.findings]


def _run_program(
    stack: str, config: dict[str, Any], secret_keys: frozenset[str], monitor: CapturingMonitor
) -> dict[str, Any]:
    """Run infra/__main__.py once, isolated from any earlier run in this process."""
    # Pulumi hands every config value to a program as a string, structured ones as JSON text.
    set_all_config({key: _config_text(value) for key, value in config.items()}, sorted(secret_keys))
    # A fresh root Stack per run: otherwise outputs and parents leak from the previous stack.
    runtime_settings.set_root_resource(None)  # type: ignore[arg-type]
    pulumi_mocks.set_mocks(
        monitor.mocks, project=PROJECT, stack=stack, preview=False, logger=_QUIET, monitor=monitor
    )
    pulumi.runtime.register_stack_transformation(_without_aliases)

    def program() -> None:
        runpy.run_path(str(PROGRAM), run_name="__main__")

    _sync_await(run_pulumi_func(program))
    root = runtime_settings.get_root_resource()
    exports: dict[str, Any] = getattr(root, "outputs", {})
    return {name: _sync_await(_resolve(exports[name])) for name in sorted(exports)}


def _without_aliases(
    args: pulumi.ResourceTransformationArgs,
) -> pulumi.ResourceTransformationResult:
    """Drop the SDK's aliases before the resource turns each into a URN.

    Aliases only map old URNs in an existing state to new ones, and an offline plan has no
    state. azure-native gives every resource a few dozen (one per past API version); computing
    them was most of an Azure stack's planning time.
    """
    opts = copy.copy(args.opts)
    opts.aliases = None
    return pulumi.ResourceTransformationResult(props=args.props, opts=opts)


def _config_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, default=str)


async def _resolve(value: Any) -> Any:
    """A stack output's value, or the redaction marker if any part of it is secret."""
    output = pulumi.Output.from_input(value)
    if await output.is_secret():
        return REDACTED
    return _plain(await output.future())
