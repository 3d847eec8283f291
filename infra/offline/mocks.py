"""Mock provider answers for offline plans: echo the inputs, add what a cloud would compute."""

from __future__ import annotations

import functools
import hashlib
import importlib
import inspect
import uuid
from collections.abc import Callable
from typing import Any

import pulumi

from .mocks_aws import CALLS as AWS_CALLS
from .mocks_aws import auto_name_field as aws_auto_name_field
from .mocks_aws import digest
from .mocks_aws import resource as aws_resource
from .mocks_azure import CALLS as AZURE_CALLS
from .mocks_azure import auto_name_field as azure_auto_name_field
from .mocks_azure import resource as azure_resource
from .mocks_gcp import CALLS as GCP_CALLS
from .mocks_gcp import auto_name_field as gcp_auto_name_field
from .mocks_gcp import resource as gcp_resource

Computed = Callable[[str, dict[str, Any], str], dict[str, Any]]
# (type token, the Python names of its SDK inputs) -> (wire name of the auto-named input, style).
AutoNameField = Callable[[str, frozenset[str]], "tuple[str, str] | None"]

HEX = "0123456789abcdef"
# pulumi-kubernetes draws its suffixes from DNS-1123 label characters (metadata/naming.go).
DNS1123 = "abcdefghijklmnopqrstuvwxyz0123456789"
AUTONAMED_ANNOTATION = "pulumi.com/autonamed"


def seeded_suffix(stack: str, type_: str, name: str, length: int, alphabet: str = HEX) -> str:
    """Random-looking characters that are the same for one stack, type and logical name.

    A real engine draws them at random once and keeps them in the stack's state; a plan has no
    state, so they derive from what identifies the resource: the same stack file plans to the same
    bytes, and two stacks get different names, as two `pulumi up`s would.
    """
    raw = hashlib.shake_256("\0".join((stack, type_, name)).encode()).digest(length)
    return "".join(alphabet[byte % len(alphabet)] for byte in raw)


def auto_name(stack: str, type_: str, name: str, style: str) -> str:
    """The physical name a provider gives a resource whose program did not name it."""
    match style:
        case "bridge" | "bridge-lower":
            # Terraform-bridged providers (aws, gcp): tfbridge.AutoName, "<name>-" + 7 hex.
            base = name.lower() if style == "bridge-lower" else name
            return f"{base}-{seeded_suffix(stack, type_, name, 7)}"
        case "azure-random":
            # azure-native's "random" strategy: resource.NewUniqueName(seed, name, 8): no separator.
            return name + seeded_suffix(stack, type_, name, 8)
        case "azure-uuid":
            # azure-native's "uuid" strategy, for names ARM requires to be GUIDs.
            return str(uuid.UUID(seeded_suffix(stack, type_, name, 32)))
        case "kubernetes":
            return f"{name}-{seeded_suffix(stack, type_, name, 8, DNS1123)}"
        case _:
            raise ValueError(f"unknown auto-naming style {style!r}")


_SDK_PACKAGES = {"aws": "pulumi_aws", "gcp": "pulumi_gcp", "azure-native": "pulumi_azure_native"}


@functools.cache
def sdk_inputs(type_: str) -> frozenset[str]:
    """The Python names of a resource type's inputs, read from its SDK class; empty if unknown.

    The program has already imported the class (it created the resource), so this costs a dict
    lookup; `_internal_init` lists every input by name in every generated Python SDK.
    """
    package, module, name = type_.split(":")
    root = _SDK_PACKAGES.get(package)
    if root is None:
        return frozenset()
    namespace = module.split("/")[0]
    try:
        found = importlib.import_module(root if namespace == "index" else f"{root}.{namespace}")
        parameters = inspect.signature(getattr(found, name)._internal_init).parameters
    except (ImportError, AttributeError, TypeError, ValueError):
        return frozenset()
    return frozenset(parameters) - {"__self__", "resource_name", "opts"}


def _kubernetes(name: str, inputs: dict[str, Any], type_: str) -> dict[str, Any]:
    metadata = dict(inputs.get("metadata") or {})
    if not metadata.get("name") and not metadata.get("generateName"):
        # pulumi-kubernetes names an unnamed object "<logical name>-<8 chars>" and marks it.
        metadata["name"] = auto_name(pulumi.get_stack(), type_, name, "kubernetes")
        metadata["annotations"] = {
            **(metadata.get("annotations") or {}),
            AUTONAMED_ANNOTATION: "true",
        }
    metadata["uid"] = digest(type_, name)
    return {"metadata": metadata}


# The first path segment of a type token picks the provider family.
_BY_PACKAGE: dict[str, Computed] = {
    "kubernetes": _kubernetes,
    "aws": aws_resource,
    "azure-native": azure_resource,
    "gcp": gcp_resource,
}
_AUTO_NAMES: dict[str, AutoNameField] = {
    "aws": aws_auto_name_field,
    "azure-native": azure_auto_name_field,
    "gcp": gcp_auto_name_field,
}


def with_auto_name(type_: str, name: str, inputs: dict[str, Any], stack: str) -> dict[str, Any]:
    """The inputs as the provider's Check returns them: with the auto-name it filled in, if any."""
    rule = _AUTO_NAMES.get(type_.split(":")[0])
    found = rule(type_, sdk_inputs(type_)) if rule is not None else None
    if found is None:
        return inputs
    field, style = found
    # A set name, or a name prefix the provider builds its own unique name from, wins.
    if inputs.get(field) is not None or inputs.get(f"{field}Prefix") is not None:
        return inputs
    return {**inputs, field: auto_name(stack, type_, name, style)}


class PlanMocks(pulumi.runtime.Mocks):
    """Mocks that make an offline plan look like a real one, and give the same answers every run."""

    def __init__(self, stack: str | None = None) -> None:
        super().__init__()
        # Auto-names depend on the stack; by default the one the mock runtime is running.
        self.stack = stack

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        """Echo the inputs plus auto-names and computed fields; ids derive from type and name."""
        inputs = args.inputs
        if args.custom is not False:
            stack = self.stack if self.stack is not None else pulumi.get_stack()
            inputs = with_auto_name(args.typ, args.name, inputs, stack)
        computed = _BY_PACKAGE.get(args.typ.split(":")[0])
        extra = computed(args.name, inputs, args.typ) if computed else {}
        resource_id = extra.get("id") or f"{args.name}-{digest(args.typ, args.name)[:8]}"
        return resource_id, {**inputs, **extra}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list[tuple[str, str]] | None]:
        """Answer the invokes the program uses; unknown ones return {} so their fields are None."""
        handler = CALLS.get(args.token)
        return (handler(args.args) if handler else {}), []


# Every invoke the program makes, by token; the loopback engine's conformance test answers from it.
CALLS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    **AWS_CALLS,
    **AZURE_CALLS,
    **GCP_CALLS,
}
