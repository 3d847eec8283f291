"""A loopback Pulumi engine and resource monitor, on the SDK's own protobuf stubs.

The Pulumi CLI cannot be installed here, so this stands in for the two gRPC services a program
talks to during `pulumi preview` (or `pulumi up`) of a new stack. Every answer restates what the
real engine or a provider does, from their source:

- pulumi/pulumi (HEAD 1b5949891b) pkg/resource/deploy/source_eval.go (`resmon`):
  `SupportsFeature`, `GetDeploymentInfo` (the features a current engine reports, output values
  included), `Invoke` (a declared `dependsOn` on a resource not yet created answers `unknown`),
  `RegisterResource` (`additionalSecretOutputs` come back secret), `SignalAndWaitForShutdown`;
- pkg/resource/deploy/deployment.go `generateURN`: a URN joins the parent's full qualified type
  to the resource's type with `$`, except under the root stack;
- pkg/resource/deploy/resourcetracker/tracker.go: in a preview nothing is created, so every
  custom resource counts as pending;
- a preview of a create answers a URN, an empty id and the provider's planned state: the inputs,
  with every output the inputs do not give unknown, nested ones included, and an input whose shape
  differs from its output's unknown (pulumi-azure-native provider/pkg/convert/previewOutputs.go
  `PreviewOutputs`; a Terraform plan marks computed attributes unknown the same way). The output
  shapes come from the provider SDK's own output types. pulumi-kubernetes answers the inputs as
  they are. The SDK resolves unknowns as unknown and runs no `apply` on them;
- an update (dry_run false) answers an id and the state the offline mocks compute for a created
  resource (infra/offline/mocks.py): the inputs, auto-names and computed fields, known
  everywhere, as the SDK sees them after a real `pulumi up`.

Invokes run for real in both; they are answered from the offline mocks' tables, with the stack's
config in scope (the AWS region, the GCP project). An invoke those tables do not answer fails the
program, as a provider without an answer would.
"""

from __future__ import annotations

import collections.abc
import contextvars
import functools
import importlib
import threading
import typing
from collections.abc import Callable, Mapping
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, NoReturn

import grpc
import pulumi
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi import _types
from pulumi.runtime import config as runtime_config
from pulumi.runtime import rpc
from pulumi.runtime.proto import engine_pb2, engine_pb2_grpc, resource_pb2, resource_pb2_grpc

from llmplane.infra.offline.mocks import CALLS as MOCK_CALLS
from llmplane.infra.offline.mocks import PlanMocks

ROOT_STACK_TYPE = "pulumi:pulumi:Stack"
# Severities of engine_pb2.LogSeverity, by name, for messages.
SEVERITIES = {
    engine_pb2.DEBUG: "DEBUG",
    engine_pb2.INFO: "INFO",
    engine_pb2.WARNING: "WARNING",
    engine_pb2.ERROR: "ERROR",
}
# source_eval.go supportsFeatureID: the string features an engine answers SupportsFeature for.
LEGACY_FEATURES = frozenset(
    {
        "secrets",
        "resourceReferences",
        "outputValues",
        "aliasSpecs",
        "replacementTrigger",
        "deletedWith",
        "replaceWith",
        "transforms",
        "invokeTransforms",
        "parameterization",
        "resourceHooks",
        "errorHooks",
        "sendsOptionsToHooks",
    }
)
# source_eval.go supportedMonitorFeatures, in its order; names the installed SDK lacks are skipped.
_FEATURE_NAMES = (
    "SECRETS",
    "RESOURCE_REFERENCES",
    "OUTPUT_VALUES",
    "ALIAS_SPECS",
    "REPLACEMENT_TRIGGER",
    "DELETED_WITH",
    "REPLACE_WITH",
    "TRANSFORMS",
    "INVOKE_TRANSFORMS",
    "PARAMETERIZATION",
    "RESOURCE_HOOKS",
    "ERROR_HOOKS",
    "SENDS_OPTIONS_TO_HOOKS",
    "BYTE_STRING",
    "INVOKE_DEPENDS_ON",
    "INVOKE_PARENT",
)
SUPPORTED_FEATURES = [
    getattr(resource_pb2, f"RESOURCE_MONITOR_FEATURE_{name}")
    for name in _FEATURE_NAMES
    if hasattr(resource_pb2, f"RESOURCE_MONITOR_FEATURE_{name}")
]

Invoke = Callable[[dict[str, Any]], dict[str, Any]]
SIGNATURE, SECRET = rpc._special_sig_key, rpc._special_secret_sig
_SDK_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}
_SEQUENCES = (list, tuple, collections.abc.Sequence, typing.Sequence)
_MAPPINGS = (dict, collections.abc.Mapping, typing.Mapping)


@functools.cache
def resource_class(type_: str) -> type | None:
    """The provider SDK's class for a cloud resource type token, if this SDK has it."""
    package, module, name = type_.split(":")
    root = _SDK_PACKAGES.get(package)
    if root is None:
        return None
    namespace = module.split("/")[0]
    try:
        found = importlib.import_module(root if namespace == "index" else f"{root}.{namespace}")
        return getattr(found, name)
    except (ImportError, AttributeError):
        return None


def planned_state(type_: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """A provider's preview of a create: inputs in output shape, every other output unknown."""
    cls = resource_class(type_)
    if cls is None:
        return inputs
    state = dict(inputs)
    for name, typ in _types.resource_types(cls).items():
        state[name] = _planned(inputs[name], typ) if name in inputs else rpc.UNKNOWN
    return state


def _planned(value: Any, typ: Any) -> Any:
    """One planned value: kept where its shape is its output's, unknown where it is not."""
    if isinstance(value, dict) and SIGNATURE in value:
        if value[SIGNATURE] == SECRET:
            return {**value, "value": _planned(value.get("value"), typ)}
        return value  # a resource reference, asset or archive
    if value is None or value == rpc.UNKNOWN:
        return value
    typ = _types.unwrap_type(typ)
    origin, args = typing.get_origin(typ), typing.get_args(typ)
    if isinstance(typ, type) and _types.is_output_type(typ):
        if not isinstance(value, dict):
            return rpc.UNKNOWN
        fields = _types.output_type_types(typ)
        return {
            key: _planned(value[key], inner) if key in value else rpc.UNKNOWN
            for key, inner in fields.items()
        }
    if origin in _SEQUENCES and args:
        return (
            [_planned(item, args[0]) for item in value] if isinstance(value, list) else rpc.UNKNOWN
        )
    if origin in _MAPPINGS and len(args) == 2:
        if not isinstance(value, dict):
            return rpc.UNKNOWN
        return {key: _planned(item, args[1]) for key, item in value.items()}
    return value


def _unwrap_secrets(value: Any) -> Any:
    """Wire values with secrets replaced by their values, for the mocks, which know none."""
    if isinstance(value, dict):
        if value.get(SIGNATURE) == SECRET:
            return _unwrap_secrets(value.get("value"))
        return {key: _unwrap_secrets(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unwrap_secrets(item) for item in value]
    return value


def _secret(value: Any) -> Any:
    """A wire value marked secret (once)."""
    if isinstance(value, dict) and value.get(SIGNATURE) == SECRET:
        return value
    return {SIGNATURE: SECRET, "value": value}


@dataclass(frozen=True)
class Registration:
    """One RegisterResource request, as the engine received it."""

    urn: str
    type: str
    name: str
    parent: str
    custom: bool
    provider: str
    dependencies: tuple[str, ...]
    object: dict[str, Any]


@dataclass(frozen=True)
class LogEntry:
    """One engine Log request."""

    severity: str
    message: str
    urn: str


@dataclass
class Record:
    """Everything a program sent: registrations, outputs, invokes, logs and calls per RPC."""

    registrations: dict[str, Registration] = field(default_factory=dict)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    invokes: list[tuple[str, dict[str, Any], bool]] = field(default_factory=list)
    logs: list[LogEntry] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    root: str = ""


def engine_urn(stack: str, project: str, parent: str, type_: str, name: str) -> str:
    """deployment.go generateURN: the parent's full qualified type, but never the root stack's."""
    qualified = type_
    if parent:
        parent_type = parent.split("::")[2]
        if parent_type != ROOT_STACK_TYPE:
            qualified = f"{parent_type}${type_}"
    return f"urn:pulumi:{stack}::{project}::{qualified}::{name}"


class _Monitor(resource_pb2_grpc.ResourceMonitorServicer):
    """The resource monitor of a preview of a stack that has no resources yet."""

    def __init__(self, engine: LoopbackEngine) -> None:
        self._engine = engine

    def _count(self, rpc: str) -> None:
        with self._engine.lock:
            self._engine.record.calls[rpc] = self._engine.record.calls.get(rpc, 0) + 1

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        """The string features a current engine supports."""
        self._count("SupportsFeature")
        return resource_pb2.SupportsFeatureResponse(hasSupport=request.id in LEGACY_FEATURES)

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        """Project, stack, config and the monitor features, as a current engine reports them."""
        self._count("GetDeploymentInfo")
        engine = self._engine
        return resource_pb2.DeploymentInfo(
            project=engine.project,
            stack=engine.stack,
            organization=engine.organization,
            config=engine.config,
            configSecretKeys=sorted(engine.secret_keys),
            dryRun=engine.dry_run,
            parallel=engine.parallel,
            supportedFeatures=SUPPORTED_FEATURES,
        )

    def RegisterResource(self, request: Any, context: Any) -> Any:
        """A planned create: the engine's URN, no id yet, and the inputs as the planned state."""
        self._count("RegisterResource")
        engine = self._engine
        if request.remote:
            # Multi-language components need a provider's Construct, which a plan cannot see.
            engine.fail(context, f"remote component {request.type} {request.name} is not planned")
        urn = engine_urn(engine.stack, engine.project, request.parent, request.type, request.name)
        registration = Registration(
            urn=urn,
            type=request.type,
            name=request.name,
            parent=request.parent,
            custom=bool(request.custom),
            provider=request.provider,
            dependencies=tuple(request.dependencies),
            object=json_format.MessageToDict(request.object),
        )
        with engine.lock:
            if urn in engine.record.registrations:
                duplicate = f"Duplicate resource URN '{urn}'; try giving it a unique name"
                engine.record.errors.append(duplicate)
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, duplicate)
            engine.record.registrations[urn] = registration
        resource_id, state = engine.answer(registration, list(request.additionalSecretOutputs))
        answer = struct_pb2.Struct()
        json_format.ParseDict(state, answer)
        # The SDK reads an empty id during a preview as unknown.
        return resource_pb2.RegisterResourceResponse(urn=urn, id=resource_id, object=answer)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        """A component's (or the stack's) outputs: kept, for the stack's exports."""
        self._count("RegisterResourceOutputs")
        with self._engine.lock:
            self._engine.record.outputs[request.urn] = json_format.MessageToDict(request.outputs)
        return empty_pb2.Empty()

    def ReadResource(self, request: Any, context: Any) -> Any:
        """A `get` of an existing resource: nothing exists yet, so its state is what was asked."""
        self._count("ReadResource")
        engine = self._engine
        urn = engine_urn(engine.stack, engine.project, request.parent, request.type, request.name)
        return resource_pb2.ReadResourceResponse(urn=urn, properties=request.properties)

    def Invoke(self, request: Any, context: Any) -> Any:
        """Run a provider function, unless it depends on a resource a preview has not created."""
        self._count("Invoke")
        engine = self._engine
        args = json_format.MessageToDict(request.args)
        pending = engine.pending(request.dependsOn)
        with engine.lock:
            engine.record.invokes.append((request.tok, args, pending))
        if pending:
            return resource_pb2.ResourceInvokeResponse(unknown=True)
        handler = engine.invokes.get(request.tok)
        if handler is None:
            engine.fail(context, f"the loopback engine has no answer for invoke {request.tok}")
        result = engine.in_config(lambda: handler(args))
        response = resource_pb2.ResourceInvokeResponse()
        # `return` is a Python keyword: the field is reached through getattr.
        json_format.ParseDict(result, getattr(response, "return"))
        return response

    def RegisterStackTransform(self, request: Any, context: Any) -> Any:
        """Accepted: the program registers none, and a plan applies none."""
        self._count("RegisterStackTransform")
        return empty_pb2.Empty()

    def RegisterStackInvokeTransform(self, request: Any, context: Any) -> Any:
        """Accepted, like stack transforms."""
        self._count("RegisterStackInvokeTransform")
        return empty_pb2.Empty()

    def RegisterResourceHook(self, request: Any, context: Any) -> Any:
        """Accepted: hooks run only around real operations, which a preview has none of."""
        self._count("RegisterResourceHook")
        return empty_pb2.Empty()

    def RegisterErrorHook(self, request: Any, context: Any) -> Any:
        """Accepted, like resource hooks."""
        self._count("RegisterErrorHook")
        return empty_pb2.Empty()

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        """A package reference for a parameterized provider."""
        self._count("RegisterPackage")
        return resource_pb2.RegisterPackageResponse(ref=f"{request.name}@{request.version}")

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> Any:
        """The program is done registering; every request has already been answered."""
        self._count("SignalAndWaitForShutdown")
        return empty_pb2.Empty()


class _Engine(engine_pb2_grpc.EngineServicer):
    """The engine service: diagnostics and the root stack resource."""

    def __init__(self, engine: LoopbackEngine) -> None:
        self._engine = engine

    def Log(self, request: Any, context: Any) -> Any:
        """Keep every message with its severity; a test reads warnings and errors."""
        entry = LogEntry(
            SEVERITIES.get(request.severity, str(request.severity)), request.message, request.urn
        )
        with self._engine.lock:
            self._engine.record.logs.append(entry)
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        """The stack resource's URN, once the program has set it (the Node.js SDK does)."""
        return engine_pb2.GetRootResourceResponse(urn=self._engine.record.root)

    def SetRootResource(self, request: Any, context: Any) -> Any:
        """Remember the stack resource's URN."""
        with self._engine.lock:
            self._engine.record.root = request.urn
        return engine_pb2.SetRootResourceResponse()

    def RequirePulumiVersion(self, request: Any, context: Any) -> Any:
        """Any range is met: this engine stands in for a current CLI."""
        return empty_pb2.Empty()


class LoopbackEngine:
    """Both services on one loopback port, for one preview of one stack."""

    def __init__(
        self,
        project: str,
        stack: str,
        config: Mapping[str, str],
        secret_keys: frozenset[str],
        organization: str = "organization",
        parallel: int = 8,
        invokes: Mapping[str, Invoke] | None = None,
        dry_run: bool = True,
    ) -> None:
        self.project, self.stack, self.organization = project, stack, organization
        self.dry_run = dry_run
        self._mocks = PlanMocks(stack=stack)
        self.config, self.secret_keys, self.parallel = dict(config), secret_keys, parallel
        self.invokes = dict(MOCK_CALLS if invokes is None else invokes)
        self.record = Record()
        self.lock = threading.Lock()
        self._server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_Monitor(self), self._server)
        engine_pb2_grpc.add_EngineServicer_to_server(_Engine(self), self._server)
        port = self._server.add_insecure_port("127.0.0.1:0")
        self.address = f"127.0.0.1:{port}"

    def __enter__(self) -> LoopbackEngine:
        self._server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.stop(grace=None)

    def fail(self, context: Any, message: str) -> NoReturn:
        """Record an error and fail the RPC with it, as the engine fails a deployment."""
        with self.lock:
            self.record.errors.append(message)
        context.abort(grpc.StatusCode.FAILED_PRECONDITION, message)
        raise AssertionError("grpc's abort raises")  # not reached

    def answer(self, registration: Registration, secret_outputs: list[str]) -> tuple[str, dict]:
        """The id and state the engine answers a registration with, in this mode."""
        if registration.type == ROOT_STACK_TYPE or not registration.custom:
            return "", {}
        inputs = registration.object
        if self.dry_run:
            resource_id = ""
            if registration.type.startswith("kubernetes:"):
                state = dict(inputs)
            else:
                state = planned_state(registration.type, inputs)
        else:
            args = pulumi.runtime.MockResourceArgs(
                typ=registration.type,
                name=registration.name,
                inputs=_unwrap_secrets(inputs),
                provider=registration.provider,
                custom=True,
            )
            found_id, state = self.in_config(lambda: self._mocks.new_resource(args))
            resource_id = found_id or ""
            # The engine keeps an output secret when the input of the same name was.
            for key, value in inputs.items():
                if isinstance(value, dict) and value.get(SIGNATURE) == SECRET and key in state:
                    state[key] = _secret(state[key])
        for key in secret_outputs:
            if key in state:
                state[key] = _secret(state[key])
        return resource_id, state

    def pending(self, depends_on: Any) -> bool:
        """tracker.go HasUnresolved: does the expansion of these URNs reach an uncreated resource?

        A preview creates nothing, so any custom resource counts; a component stands for the
        resources beneath it. In an update every registration has been answered, so created.
        """
        if not self.dry_run:
            return False
        with self.lock:
            registrations = dict(self.record.registrations)
        children: dict[str, list[str]] = {}
        for registration in registrations.values():
            children.setdefault(registration.parent, []).append(registration.urn)
        frontier, seen = list(depends_on), set()
        while frontier:
            urn = frontier.pop()
            registration = registrations.get(urn)
            if registration is None or urn in seen:
                continue
            seen.add(urn)
            if registration.custom:
                return True
            frontier.extend(children.get(urn, []))
        return False

    def in_config(self, call: Callable[[], Any]) -> Any:
        """Run a mock with this stack's config, as a provider configured for it."""

        def scoped() -> Any:
            runtime_config.set_all_config(self.config, sorted(self.secret_keys))
            return call()

        # A fresh context: stacks previewed side by side must not see each other's config.
        return contextvars.Context().run(scoped)
