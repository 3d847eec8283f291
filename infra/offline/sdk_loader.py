"""Load the few resource classes a plan uses from the largest provider SDK namespaces, not all.

`pulumi_gcp.compute`'s `__init__` imports some 280 resource modules, and evaluating their type
hints costs about a second; a GCP plan needs four of them. Under this loader such a namespace
starts empty and fetches each name on first use from the module that defines it: `RouterNat`
from `router_nat.py`, `*Args` classes from `_inputs.py`. A name it cannot place runs the real
`__init__`, so every lookup still succeeds, only slower. The classes are the SDK's own; nothing
is copied or changed. The offline engine installs it; `pulumi up` imports the SDKs as usual.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import re
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

# Namespaces of which a plan uses a handful of names; together their full imports cost about
# two seconds of CPU here, the partial ones well under one.
PARTIAL_NAMESPACES = frozenset(
    {
        "pulumi_gcp.compute",
        "pulumi_azure_native.network",
        "pulumi_azure_native.compute",
        "pulumi_aws.ec2",
        "pulumi_aws.cloudwatch",
        "pulumi_aws.iam",
        "pulumi_aws.eks",
        "pulumi_azure_native.authorization",
        "pulumi_azure_native.containerregistry",
        "pulumi_azure_native.containerservice",
        "pulumi_gcp.container",
        "pulumi_gcp.kms",
        "pulumi_gcp.projects",
        "pulumi_gcp.artifactregistry",
        "pulumi_kubernetes.core.v1",
        "pulumi_kubernetes.apps.v1",
    }
)

_WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def candidate_modules(name: str) -> list[str]:
    """Submodules that may define `name`, most likely first, per the SDK generator's layout."""
    if name.endswith(("Args", "ArgsDict")):
        return ["_inputs"]
    if name[:1].islower():  # a data-source function: get_vpc and get_vpc_output live in get_vpc
        return [name.removesuffix("_output")]
    # pulumi_kubernetes names a module after its class (Namespace.py); the others use snake case.
    return [_WORD_BOUNDARY.sub("_", name).lower(), name, "outputs", "_enums"]


class _PartialLoader(importlib.abc.Loader):
    """Creates the namespace empty and resolves names lazily; falls back to the real init."""

    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        folder = Path(next(iter(module.__path__)))

        def resolve(name: str) -> Any:
            if name.startswith("__"):
                raise AttributeError(name)
            if (folder / name).is_dir():
                raise AttributeError(name)  # a subpackage: the import system loads it
            for candidate in candidate_modules(name):
                if (folder / f"{candidate}.py").is_file():
                    found = importlib.import_module(f"{module.__name__}.{candidate}")
                    # A class shadows its module of the same name (DaemonSet in DaemonSet.py),
                    # as the real `from .DaemonSet import *` does; `outputs` is the module.
                    value = getattr(found, name, found if candidate == name else None)
                    if value is not None:
                        setattr(module, name, value)
                        return value
            return self._load_whole(module, name)

        module.__getattr__ = resolve  # type: ignore[attr-defined]  # PEP 562 module hook

    def _load_whole(self, module: ModuleType, name: str) -> Any:
        """Run the package's own __init__ once, then answer as a normal import would."""
        module.__dict__.pop("__getattr__", None)
        self.real.exec_module(module)
        return getattr(module, name)


class _PartialFinder(importlib.abc.MetaPathFinder):
    """Hands the namespaces in PARTIAL_NAMESPACES to `_PartialLoader`; ignores everything else."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in PARTIAL_NAMESPACES:
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or spec.loader is None:
            return None
        spec.loader = _PartialLoader(spec.loader)  # type: ignore[arg-type]
        return spec


def install() -> None:
    """Put the finder first on sys.meta_path, once; namespaces already imported stay as they are."""
    if not any(isinstance(finder, _PartialFinder) for finder in sys.meta_path):
        sys.meta_path.insert(0, _PartialFinder())
