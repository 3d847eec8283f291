"""llmplane's component package: the schema `pulumi package add ./components` gets, and its use.

- The golden schema. The SDK's analyzer runs offline over the components components/__main__.py
  exports, as `component_provider_host` runs it, and the schema must equal components/schema.json
  byte for byte. After changing a component's args, outputs or docstrings, regenerate the file
  with `.venv/bin/python -m tests.components.update_schema` and review the diff.
- The provider process. components/__main__.py starts as the Pulumi CLI's Python language host
  starts a plugin (pulumi/pulumi sdk/python/cmd/pulumi-language-python `RunPlugin`: the venv's
  `python <plugin folder> <engine address> [flags]`, in the program's folder), prints its port and
  answers GetSchema, GetPluginInfo and Construct over gRPC, against tests/conformance's loopback
  engine and monitor.
- examples/yaml-inference. Its Pulumi.yaml passes the CLI's project rules, every resource,
  property and output in it is checked against the schema, and its two services go to the
  provider process as the Construct requests the engine sends for a YAML program.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import os
import pkgutil
import queue
import re
import subprocess
import threading
import tomllib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pulumi
import pulumi_kubernetes as k8s
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.errors import InputPropertyError
from pulumi.provider.experimental.analyzer import Analyzer
from pulumi.provider.experimental.component import ComponentProvider
from pulumi.provider.experimental.util import camel_case
from pulumi.runtime.proto import provider_pb2, provider_pb2_grpc, resource_pb2, resource_pb2_grpc

import llmplane.components as components
from llmplane.components.kubernetes.engines import ENGINES
from llmplane.components.kubernetes.inference import resolve
from tests.components.update_schema import GOLDEN, PLUGIN, REPO, generated, package, render
from tests.conformance.cli_rules import (
    CliError,
    load_project,
    load_yaml,
    merge_config,
    program_config,
    stack_values,
)
from tests.conformance.loopback_engine import LoopbackEngine, Registration, engine_urn

EXAMPLE = REPO / "examples" / "yaml-inference"
PREFIX = "llmplane:index:"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
PROJECT, STACK = "yaml-inference", "dev"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"
# pulumi/pulumi pkg/resource/deploy/providers/registry.go UnknownID: a provider's id in a preview.
UNKNOWN_ID = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"
DEPLOYMENT = "kubernetes:apps/v1:Deployment"
START_TIMEOUT = 60.0
RPC_TIMEOUT = 60.0
WHOLE_REFERENCE = re.compile(r"\$\{([^}]+)\}")
# project.json `packageSpec`: the attributes a `packages:` entry may have.
PACKAGE_SPEC = {"source", "version", "parameters", "pluginDownloadURL", "checksums", "extensions"}

Program = dict[str, Any]
Schema = dict[str, Any]


@pytest.fixture(scope="module")
def entry() -> dict[str, Any]:
    return package()


@pytest.fixture(scope="module")
def schema() -> Schema:
    return generated()


def _plugin_venv() -> Path:
    """The venv the language host runs the plugin in, resolved as the host resolves it.

    pulumi/pulumi pkg/resource/plugin/plugin.go makes the plugin's folder its root directory;
    sdk/python/toolchain/pip.go `resolveVirtualEnvironmentPath` joins a relative `virtualenv`
    to that root.
    """
    manifest = load_yaml(PLUGIN / "PulumiPlugin.yaml")
    # filepath.Join cleans `..` lexically, as normpath does; symlinks stay as they are.
    return Path(os.path.normpath(PLUGIN / manifest["runtime"]["options"]["virtualenv"]))


# The golden schema.


def test_the_schema_equals_the_golden_file(schema: Schema) -> None:
    golden = GOLDEN.read_text(encoding="utf-8")
    assert golden == render(schema), (
        "components/schema.json differs from what the package serves: run "
        "`.venv/bin/python -m tests.components.update_schema` and review the diff"
    )


def test_the_schema_is_the_one_component_provider_host_would_serve(
    entry: dict[str, Any], schema: Schema
) -> None:
    """The package's provider changes how inputs are mapped, never the schema."""
    host = ComponentProvider(entry["COMPONENTS"], entry["PACKAGE"], None, entry["VERSION"])
    assert host.schema is not None and json.loads(host.schema) == schema


def _map(
    provider: ComponentProvider, inputs: dict[str, Any], component: str = "InferenceService"
) -> dict[str, Any]:
    """A Construct request's inputs as the provider hands them to the component's constructor."""
    return dict(provider.map_inputs(inputs, provider._component_defs[component]))


def test_integer_inputs_reach_the_component_as_int(entry: dict[str, Any]) -> None:
    # Numbers cross the wire as floats, nested ones too.
    wire = {
        "modelId": "m",
        "placement": {},
        "gpus": 2.0,
        "maxInputTokens": 4096.0,
        "memoryFraction": 0.9,
        "autoscaling": {"prometheusUrl": "http://p", "monitoringNamespace": "mon"},
        "wake": {"timezone": "UTC", "start": "0 8 * * *", "end": "0 18 * * *", "replicas": 2.0},
    }
    mapped = _map(entry["provider"](), wire)
    assert (type(mapped["gpus"]), mapped["gpus"]) == (int, 2)
    assert (type(mapped["max_input_tokens"]), mapped["max_input_tokens"]) == (int, 4096)
    assert (type(mapped["wake"]["replicas"]), mapped["wake"]["replicas"]) == (int, 2)
    assert mapped["memory_fraction"] == 0.9
    with pytest.raises(InputPropertyError, match="gpus must be a whole number"):
        _map(entry["provider"](), {**wire, "gpus": 1.5})
    # The SDK's own provider still hands over the float; when it stops, the override in
    # components/__main__.py can go, and component_provider_host can serve the package.
    host = ComponentProvider(entry["COMPONENTS"], entry["PACKAGE"], None, entry["VERSION"])
    assert type(_map(host, wire)["gpus"]) is float, (
        "the SDK converts integers now: drop IntegerInputsProvider from components/__main__.py"
    )


def _walk_refs(prop: dict[str, Any]) -> Iterator[str]:
    """Every `#/types/...` reference in a property, through array items and map values."""
    if "$ref" in prop:
        yield prop["$ref"]
    for inner in ("items", "additionalProperties"):
        if inner in prop:
            yield from _walk_refs(prop[inner])


def test_the_schema_has_every_component_with_described_inputs_and_outputs(
    entry: dict[str, Any], schema: Schema
) -> None:
    exported = entry["COMPONENTS"]
    assert exported, "the package exports at least one component"
    assert set(schema["resources"]) == {PREFIX + c.__name__ for c in exported}
    refs: set[str] = set()
    for component in exported:
        resource = schema["resources"][PREFIX + component.__name__]
        assert resource["isComponent"] is True
        assert resource["description"] == inspect.getdoc(component)
        args = inspect.get_annotations(component.__init__)["args"]
        fields = {k for cls in args.__mro__ for k in inspect.get_annotations(cls)}
        assert set(resource["inputProperties"]) == {camel_case(k) for k in fields}
        if hasattr(args, "__required_keys__"):  # a TypedDict
            assert resource["requiredInputs"] == sorted(
                camel_case(k) for k in args.__required_keys__
            )
        outputs = {k for k in inspect.get_annotations(component) if not k.startswith("_")}
        assert set(resource["properties"]) == {camel_case(k) for k in outputs}
        for kind in ("inputProperties", "properties"):
            for name, prop in resource[kind].items():
                assert prop.get("description"), f"{component.__name__}.{name} has no description"
                refs.update(_walk_refs(prop))
    # Every type an input or output refers to is in the schema, described field by field.
    seen: set[str] = set()
    while refs - seen:
        ref = (refs - seen).pop()
        seen.add(ref)
        type_ = schema["types"][ref.removeprefix("#/types/")]
        assert type_.get("description"), f"{ref} has no description"
        for name, prop in type_["properties"].items():
            assert prop.get("description"), f"{ref}.{name} has no description"
            refs.update(_walk_refs(prop))
    assert {f"#/types/{token}" for token in schema["types"]} == seen, "no type is unused"


def _library_components() -> list[type[pulumi.ComponentResource]]:
    """Every public ComponentResource subclass defined in the library's modules."""
    found: dict[str, type[pulumi.ComponentResource]] = {}
    for module in pkgutil.walk_packages(components.__path__, "llmplane.components."):
        if module.name.endswith("__main__"):
            continue  # the provider's entry point, not a library module
        for value in vars(importlib.import_module(module.name)).values():
            if (
                inspect.isclass(value)
                and issubclass(value, pulumi.ComponentResource)
                and value.__module__.startswith("llmplane.components.")
                and not value.__name__.startswith("_")
            ):
                found[f"{value.__module__}.{value.__name__}"] = value
    return [found[key] for key in sorted(found)]


def test_every_component_the_analyzer_accepts_is_in_the_package(entry: dict[str, Any]) -> None:
    exported = set(entry["COMPONENTS"])
    library = _library_components()
    assert exported <= set(library)
    accepted = []
    for component in library:
        if component in exported:
            continue
        try:
            Analyzer(entry["PACKAGE"]).analyze([component])
        except Exception:  # the analyzer refuses it today: not a package component yet
            continue
        accepted.append(f"{component.__module__}.{component.__name__}")
    assert not accepted, (
        f"{accepted} can be analyzed: add them to COMPONENTS in components/__main__.py and "
        "regenerate components/schema.json"
    )


def test_the_package_has_the_distributions_version(schema: Schema) -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert schema["version"] == project["version"], (
        "reinstall (`make install`), so that the metadata has pyproject.toml's version, and "
        "regenerate components/schema.json"
    )


def test_the_plugin_runs_in_the_environment_of_the_repositorys_program() -> None:
    manifest = load_yaml(PLUGIN / "PulumiPlugin.yaml")
    assert manifest["runtime"]["name"] == "python"
    assert manifest["runtime"]["options"]["toolchain"] == "pip"
    root = load_project(REPO / "Pulumi.yaml")
    assert _plugin_venv() == Path(os.path.normpath(REPO / root.runtime["options"]["virtualenv"]))
    assert _plugin_venv() == REPO / ".venv"


# The provider process.


@dataclass
class Served:
    """The component package running as a provider, and the loopback engine it talks to."""

    provider: provider_pb2_grpc.ResourceProviderStub
    engine: LoopbackEngine
    monitor: resource_pb2_grpc.ResourceMonitorStub


def _engine_state(engine: LoopbackEngine) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """`pulumi:pulumi:getResource` as the engine answers it (deploy/builtins.go `getResource`).

    The SDK calls it to rehydrate a provider a Construct request names: the answer is the
    registered resource's URN, id and state.
    """

    def get_resource(args: dict[str, Any]) -> dict[str, Any]:
        urn = args["urn"]
        registration = engine.record.registrations[urn]
        return {"urn": urn, "id": UNKNOWN_ID, "provider": "", "state": registration.object}

    return get_resource


def _read_port(process: subprocess.Popen[str], stderr: Path) -> int:
    """The port the provider prints on its first line of stdout, as the CLI reads it."""
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    stdout = process.stdout
    threading.Thread(target=lambda: lines.put(stdout.readline()), daemon=True).start()
    try:
        line = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        pytest.fail(f"no port after {START_TIMEOUT}s; stderr:\n{stderr.read_text()}")
    if not line.strip().isdigit():
        pytest.fail(f"the provider printed {line!r}, not a port; stderr:\n{stderr.read_text()}")
    return int(line)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    venv = _plugin_venv()
    python = venv / "bin" / "python"
    if not python.exists():
        pytest.fail(f"{python} is missing: the plugin runs in it (`make install` builds it)")
    # sdk/python/toolchain ActivateVirtualEnv: the venv's bin first on PATH, VIRTUAL_ENV set,
    # PYTHONHOME dropped. PYTHONPATH goes too: the plugin must find its imports by itself.
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONHOME", "PYTHONPATH"}}
    env["PATH"] = os.pathsep.join([str(venv / "bin"), env.get("PATH", "")])
    env["VIRTUAL_ENV"] = str(venv)
    stderr = tmp_path_factory.mktemp("provider") / "stderr.txt"
    engine = LoopbackEngine(PROJECT, STACK, _config(), frozenset())
    engine.invokes["pulumi:pulumi:getResource"] = _engine_state(engine)
    with engine, stderr.open("w", encoding="utf-8") as errors:
        process = subprocess.Popen(
            [str(python), str(PLUGIN), engine.address, "--logtostderr"],
            cwd=EXAMPLE,
            env=env,
            stdout=subprocess.PIPE,
            stderr=errors,
            text=True,
        )
        try:
            port = _read_port(process, stderr)
            with (
                grpc.insecure_channel(f"127.0.0.1:{port}") as channel,
                grpc.insecure_channel(engine.address) as monitor,
            ):
                yield Served(
                    provider_pb2_grpc.ResourceProviderStub(channel),
                    engine,
                    resource_pb2_grpc.ResourceMonitorStub(monitor),
                )
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def test_the_provider_serves_the_golden_schema_and_version(
    served: Served, entry: dict[str, Any]
) -> None:
    """What `pulumi package add ./components` reads: the committed schema, exactly."""
    response = served.provider.GetSchema(
        provider_pb2.GetSchemaRequest(version=0), timeout=RPC_TIMEOUT
    )
    assert render(json.loads(response.schema)) == GOLDEN.read_text(encoding="utf-8")
    info = served.provider.GetPluginInfo(empty_pb2.Empty(), timeout=RPC_TIMEOUT)
    assert info.version == entry["VERSION"]


# examples/yaml-inference.


def _program() -> Program:
    return load_yaml(EXAMPLE / "Pulumi.yaml")


def _config() -> dict[str, str]:
    """The example's stack config for a context `lab`, with the project's defaults merged in."""
    project = load_project(EXAMPLE / "Pulumi.yaml")
    merged = merge_config(
        project, STACK, stack_values({f"{PROJECT}:kubeContext": "lab"}, frozenset())
    )
    values, _ = program_config(merged)
    return values


def test_the_yaml_example_passes_the_cli_project_rules() -> None:
    project = load_project(EXAMPLE / "Pulumi.yaml")
    assert (project.name, project.runtime) == (PROJECT, "yaml")
    with pytest.raises(CliError, match="missing configuration value 'kubeContext'"):
        merge_config(project, STACK, {})
    assert _config() == {f"{PROJECT}:kubeContext": "lab", f"{PROJECT}:namespace": "llm"}
    # project.json `packages`: a source string, or a packageSpec.
    for name, spec in _program()["packages"].items():
        assert isinstance(spec, str) or (
            isinstance(spec, dict) and "source" in spec and set(spec) <= PACKAGE_SPEC
        ), name


def test_the_yaml_example_names_this_component_package() -> None:
    (source,) = _program()["packages"].values()
    assert _program()["packages"] == {"llmplane": source}
    assert (EXAMPLE / source).resolve() == PLUGIN
    assert (PLUGIN / "PulumiPlugin.yaml").is_file()


@dataclass(frozen=True)
class Scope:
    """What a YAML expression can name: config keys (with their types) and resources."""

    schema: Schema
    config: dict[str, str]
    resources: dict[str, dict[str, Any]]


def _scalar_errors(path: str, value: Any, kind: str | None) -> list[str]:
    """A literal against a schema primitive type; YAML 1.2 reads only true/false as booleans."""
    checks: dict[str, Callable[[Any], bool]] = {
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
    }
    check = checks.get(kind or "")
    if check is None:
        return [f"{path}: the schema's type {kind!r} is not one this check knows"]
    return [] if check(value) else [f"{path}: {value!r} is not of type {kind}"]


def _reference_errors(path: str, name: str, prop: dict[str, Any] | None, scope: Scope) -> list[str]:
    """`${name}` in a property (prop given) or an output (prop None)."""
    if "." not in name:
        if name in scope.resources:
            return [f"{path}: ${{{name}}} is a resource, not a value"]
        if name not in scope.config:
            return [f"{path}: ${{{name}}} names no config key or resource"]
        if prop is not None and prop.get("type") != scope.config[name]:
            return [f"{path}: config {name} is a {scope.config[name]}, not {prop.get('type')}"]
        return []
    resource, field = name.split(".", 1)
    if resource not in scope.resources:
        return [f"{path}: ${{{name}}} names no resource"]
    outputs = scope.schema["resources"].get(scope.resources[resource]["type"], {}).get("properties")
    if outputs is None or field not in outputs:
        return [f"{path}: {field} is not an output of {resource}"]
    if prop is None:
        return []
    errors = []
    if prop.get("plain"):
        # A plain input takes the value itself, which an output is not until its resource exists.
        errors.append(f"{path}: a plain input cannot take the output {resource}.{field}")
    if (prop.get("type"), prop.get("$ref")) != (
        outputs[field].get("type"),
        outputs[field].get("$ref"),
    ):
        errors.append(f"{path}: {resource}.{field} has another type")
    return errors


def _value_errors(path: str, value: Any, prop: dict[str, Any], scope: Scope) -> list[str]:
    """A YAML value against one schema property: its type, recursively, and what it names."""
    if isinstance(value, str) and (whole := WHOLE_REFERENCE.fullmatch(value)):
        return _reference_errors(path, whole[1], prop, scope)
    if "$ref" in prop:
        type_ = scope.schema["types"][prop["$ref"].removeprefix("#/types/")]
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not an object ({prop['$ref']})"]
        return _object_errors(path, value, type_["properties"], type_.get("required", []), scope)
    if prop.get("type") == "array":
        if not isinstance(value, list):
            return [f"{path}: {value!r} is not a list"]
        return [
            error
            for i, item in enumerate(value)
            for error in _value_errors(f"{path}[{i}]", item, prop["items"], scope)
        ]
    if prop.get("type") == "object":
        if not isinstance(value, dict):
            return [f"{path}: {value!r} is not a map"]
        return [
            error
            for key, item in value.items()
            for error in _value_errors(f"{path}.{key}", item, prop["additionalProperties"], scope)
        ]
    if isinstance(value, str) and "${" in value:
        return [f"{path}: interpolated text is an output; this check takes whole references only"]
    return _scalar_errors(path, value, prop.get("type"))


def _object_errors(
    path: str, values: dict[str, Any], properties: dict[str, Any], required: list[str], scope: Scope
) -> list[str]:
    """Only known properties, every required one present, each of the right type."""
    errors = [f"{path}: {key} is not an input" for key in values if key not in properties]
    errors += [f"{path}: {key} is required" for key in required if key not in values]
    for key, value in values.items():
        if key in properties:
            errors += _value_errors(f"{path}.{key}", value, properties[key], scope)
    return errors


def _provider_errors(name: str, resource: dict[str, Any], scope: Scope) -> list[str]:
    """A Kubernetes provider's properties: ProviderArgs' parameters, in the schema's camelCase."""
    accepted = set(inspect.signature(k8s.ProviderArgs.__init__).parameters) - {"self"}
    errors = []
    for key, value in resource.get("properties", {}).items():
        if re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower() not in accepted:
            errors.append(f"{name}.{key} is not an input of {KUBERNETES_PROVIDER}")
        elif isinstance(value, str) and (whole := WHOLE_REFERENCE.fullmatch(value)):
            errors += _reference_errors(f"{name}.{key}", whole[1], {"type": "string"}, scope)
    return errors


def _option_errors(name: str, options: dict[str, Any], scope: Scope) -> list[str]:
    """A component gets its Kubernetes provider as a reference to a provider resource.

    `providers` is the option for components; the Go SDK that runs YAML also merges `provider`
    into that map (sdk/go/pulumi/resource.go), so either works.
    """
    given = list(options.get("providers", []))
    if "provider" in options:
        given.append(options["provider"])
    errors, kinds = [], []
    for item in given:
        whole = WHOLE_REFERENCE.fullmatch(item) if isinstance(item, str) else None
        target = scope.resources.get(whole[1]) if whole else None
        if target is None or not target["type"].startswith("pulumi:providers:"):
            errors.append(f"{name}: {item!r} is not a provider resource")
        else:
            kinds.append(target["type"])
    if KUBERNETES_PROVIDER not in kinds:
        errors.append(f"{name}: no Kubernetes provider (it would use the ambient kubeconfig)")
    return errors


def yaml_errors(program: Program, schema: Schema) -> list[str]:
    """Everything in a Pulumi YAML program that llmplane's schema (or the CLI) would refuse."""
    config = {key: decl.get("type", "string") for key, decl in program.get("config", {}).items()}
    scope = Scope(schema, config, program.get("resources", {}))
    errors = []
    for name, resource in scope.resources.items():
        type_ = resource.get("type")
        if type_ == KUBERNETES_PROVIDER:
            errors += _provider_errors(name, resource, scope)
            continue
        if type_ not in schema["resources"]:
            errors.append(f"{name}: {type_} is not in llmplane's schema")
            continue
        spec = schema["resources"][type_]
        errors += _object_errors(
            name,
            resource.get("properties", {}),
            spec["inputProperties"],
            spec["requiredInputs"],
            scope,
        )
        errors += _option_errors(name, resource.get("options", {}), scope)
    for key, value in program.get("outputs", {}).items():
        whole = WHOLE_REFERENCE.fullmatch(value) if isinstance(value, str) else None
        if whole is None:
            errors.append(f"outputs.{key}: expected a reference")
        else:
            errors += _reference_errors(f"outputs.{key}", whole[1], None, scope)
    return errors


def test_the_yaml_example_matches_the_schema(schema: Schema) -> None:
    program = _program()
    assert yaml_errors(program, schema) == []
    # `provider` reaches a component's children as well (merged into its providers).
    _set(("resources", "chat", "options"), {"provider": "${cluster}"})(program)
    assert yaml_errors(program, schema) == []
    types = sorted({r["type"] for r in program["resources"].values()})
    assert types == ["llmplane:index:InferenceService", KUBERNETES_PROVIDER]


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[Program], None]:
    """A change to the example at a path of keys and list indexes; None deletes."""

    def change(program: Program) -> None:
        *parents, last = path
        node: Any = program
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


CHAT = ("resources", "chat", "properties")
CODE = ("resources", "code", "properties")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            _set((*CHAT, "placement", "nodeSelector", "nvidia.com/gpu.present"), True),
            "True is not of type string",
        ),
        (_set((*CHAT, "modelName"), "m"), "modelName is not an input"),
        (_set((*CHAT, "modelId"), None), "chat: modelId is required"),
        (_set((*CHAT, "placement", "tolerations", 0, "key"), None), "key is required"),
        (_set((*CHAT, "maxTotalTokens"), "8192"), "is not of type integer"),
        (_set((*CODE, "engine"), "${chat.namespace}"), "a plain input cannot"),
        (_set((*CODE, "namespace"), "${chat.url}"), "url is not an output"),
        (_set((*CODE, "namespace"), "${nowhere}"), "names no config key"),
        (_set(("resources", "chat", "type"), "llmplane:index:InferenceServer"), "not in llmp"),
        (_set(("resources", "chat", "options"), {}), "no Kubernetes provider"),
        (_set(("resources", "chat", "options"), {"providers": ["${code}"]}), "not a provider"),
        (_set(("resources", "cluster", "properties", "kubeContext"), "x"), "not an input of"),
        (_set(("outputs", "url"), "${chat.url}"), "outputs.url: url is not an output"),
    ],
)
def test_the_yaml_check_catches_what_the_schema_refuses(
    schema: Schema, change: Callable[[Program], None], words: str
) -> None:
    program = copy.deepcopy(_program())
    change(program)
    errors = yaml_errors(program, schema)
    assert any(words in error for error in errors), errors


@dataclass
class Constructed:
    """The example's resources as the provider process built them for one preview."""

    states: dict[str, dict[str, Any]]
    urns: dict[str, str]
    provider_ref: str
    registrations: list[Registration]
    args: dict[str, dict[str, Any]]


def _resolve(value: Any, config: dict[str, str], states: dict[str, dict[str, Any]]) -> Any:
    """A YAML value with `${config}` and `${resource.output}` replaced, as the engine sends it."""
    if isinstance(value, dict):
        return {key: _resolve(item, config, states) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolve(item, config, states) for item in value]
    if isinstance(value, str) and (whole := WHOLE_REFERENCE.fullmatch(value)):
        name = whole[1]
        if "." in name:
            resource, field = name.split(".", 1)
            return states[resource][field]
        return config[f"{PROJECT}:{name}"]
    return value


def _dependencies(value: Any) -> set[str]:
    """The resources whose outputs a YAML value uses."""
    if isinstance(value, dict):
        return {name for item in value.values() for name in _dependencies(item)}
    if isinstance(value, list):
        return {name for item in value for name in _dependencies(item)}
    if isinstance(value, str) and (whole := WHOLE_REFERENCE.fullmatch(value)) and "." in whole[1]:
        return {whole[1].split(".", 1)[0]}
    return set()


def _provider_refs(options: dict[str, Any], refs: dict[str, str]) -> dict[str, str]:
    """A resource's `providers` (and `provider`) as the map by package a Construct request has."""
    named = [
        *options.get("providers", []),
        *([options["provider"]] if "provider" in options else []),
    ]
    found = {}
    for item in named:
        ref = refs[WHOLE_REFERENCE.fullmatch(item)[1]]  # type: ignore[index]
        # A provider's URN names its type, pulumi:providers:<package>.
        found[ref.split("::")[2].removeprefix("pulumi:providers:")] = ref
    return found


@pytest.fixture(scope="module")
def constructed(served: Served, entry: dict[str, Any]) -> Constructed:
    """Run the YAML program's resources in order, as the engine does for `pulumi preview`."""
    program, config = _program(), _config()
    states: dict[str, dict[str, Any]] = {}
    urns: dict[str, str] = {}
    refs: dict[str, str] = {}
    args: dict[str, dict[str, Any]] = {}
    # The argument mapping the provider process applies to a Construct request's inputs.
    mapper: ComponentProvider = entry["provider"]()
    for name, resource in program["resources"].items():
        inputs = _resolve(resource.get("properties", {}), config, states)
        if resource["type"].startswith("pulumi:providers:"):
            # The YAML program registers a provider itself; the engine names it by reference.
            registered = served.monitor.RegisterResource(
                resource_pb2.RegisterResourceRequest(
                    type=resource["type"],
                    name=name,
                    parent=STACK_URN,
                    custom=True,
                    object=json_format.ParseDict(inputs, struct_pb2.Struct()),
                ),
                timeout=RPC_TIMEOUT,
            )
            urns[name], refs[name] = registered.urn, f"{registered.urn}::{UNKNOWN_ID}"
            continue
        depends = {
            key: provider_pb2.ConstructRequest.PropertyDependencies(
                urns=sorted(urns[r] for r in _dependencies(value))
            )
            for key, value in resource["properties"].items()
            if _dependencies(value)
        }
        response = served.provider.Construct(
            provider_pb2.ConstructRequest(
                project=PROJECT,
                stack=STACK,
                organization=served.engine.organization,
                config=config,
                dryRun=True,
                parallel=8,
                monitorEndpoint=served.engine.address,
                type=resource["type"],
                name=name,
                parent=STACK_URN,
                inputs=json_format.ParseDict(inputs, struct_pb2.Struct()),
                inputDependencies=depends,
                providers=_provider_refs(resource.get("options", {}), refs),
            ),
            timeout=RPC_TIMEOUT,
        )
        urns[name] = response.urn
        states[name] = json_format.MessageToDict(response.state)
        args[name] = _map(mapper, inputs, resource["type"].removeprefix(PREFIX))
    registrations = list(served.engine.record.registrations.values())
    return Constructed(states, urns, refs["cluster"], registrations, args)


def test_the_yaml_example_constructs_through_the_provider_process(
    constructed: Constructed, served: Served
) -> None:
    assert not served.engine.record.errors
    assert constructed.urns == {
        name: engine_urn(STACK, PROJECT, STACK_URN, type_, name)
        for name, type_ in (
            ("cluster", KUBERNETES_PROVIDER),
            ("chat", "llmplane:index:InferenceService"),
            ("code", "llmplane:index:InferenceService"),
        )
    }
    assert constructed.states == {
        "chat": {
            "endpoint": "http://chat.llm.svc.cluster.local",
            "namespace": "llm",
            "serviceName": "chat",
        },
        "code": {
            "endpoint": "http://code.llm.svc.cluster.local",
            "namespace": "llm",
            "serviceName": "code",
        },
    }
    children = {
        name: [r for r in constructed.registrations if r.parent == constructed.urns[name]]
        for name in ("chat", "code")
    }
    objects = [r for rs in children.values() for r in rs]
    assert {r.type for r in objects} >= {DEPLOYMENT, "kubernetes:core/v1:Namespace"}
    # The program's `providers: [${cluster}]` reaches every Kubernetes object.
    assert all(r.provider == constructed.provider_ref for r in objects)
    # `namespace: ${chat.namespace}` carries its dependency across the language boundary.
    assert all(constructed.urns["chat"] in r.dependencies for r in children["code"])
    # Sent as YAML numbers and strings, the args build what Python's own args build.
    for name, engine in (("chat", "tgi"), ("code", "vllm")):
        (deployment,) = [r for r in children[name] if r.type == DEPLOYMENT and r.name == name]
        (container,) = deployment.object["spec"]["template"]["spec"]["containers"]
        spec = resolve(name, constructed.args[name])  # type: ignore[arg-type]
        assert container["image"] == ENGINES[engine].image
        assert container["args"] == [*ENGINES[engine].args(spec.request), *spec.engine_args]
        pod = deployment.object["spec"]["template"]["spec"]
        assert pod["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
        assert pod["tolerations"][0]["key"] == "nvidia.com/gpu"
    assert constructed.args["chat"]["max_input_tokens"] == 4096
    assert isinstance(constructed.args["chat"]["max_input_tokens"], int)
    assert constructed.args["code"]["engine_args"] == ["--max-num-seqs", "64"]
