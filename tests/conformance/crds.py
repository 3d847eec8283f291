"""Rendered custom resources against the CRDs their charts install, as the API server checks them.

The CRDs are vendored in tests/conformance/schemas/ (see its README). jsonschema checks them
closed to unknown fields, the way `kubectl apply --validate=strict` closes them; their CEL rules
(`x-kubernetes-validations`) are restated here by hand, since jsonschema cannot run CEL.
"""

from __future__ import annotations

import importlib
import os
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml

from tests.conformance.tools import REQUIRED_ENV

SCHEMAS = Path(__file__).resolve().parent / "schemas"
HTTP_SCALED_OBJECT = ("http.keda.sh/v1alpha1", "HTTPScaledObject")
SCALED_OBJECT = ("keda.sh/v1alpha1", "ScaledObject")
CRDS = {
    HTTP_SCALED_OBJECT: SCHEMAS / "http.keda.sh_httpscaledobjects.yaml",
    SCALED_OBJECT: SCHEMAS / "keda.sh_scaledobjects.yaml",
}
# The ScaledObject CRD's CEL rule defaults an unset maxReplicaCount to this.
_DEFAULT_MAX_REPLICAS = 100


def validation_module(name: str) -> ModuleType:
    """A validation library, or a skip (a failure where CI requires the conformance checks)."""
    if os.environ.get(REQUIRED_ENV) == "1":
        return importlib.import_module(name)
    return pytest.importorskip(name)


def _closed(schema: Any) -> Any:
    """The schema with every object that lists properties closed to others, as strict mode is."""
    if isinstance(schema, dict):
        closed = {key: _closed(value) for key, value in schema.items()}
        if "properties" in closed and "additionalProperties" not in closed:
            closed["additionalProperties"] = False
        return closed
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    return schema


@cache
def crd_schema(path: Path) -> dict[str, Any]:
    """The served, stored version's schema of a vendored CRD, closed to unknown fields."""
    text = path.read_text(encoding="utf-8")
    (crd,) = [doc for doc in yaml.safe_load_all(text) if doc]
    (version,) = [v for v in crd["spec"]["versions"] if v["served"] and v["storage"]]
    schema = _closed(version["schema"]["openAPIV3Schema"])
    # Every object carries metadata, which the API server checks against ObjectMeta itself.
    schema["properties"]["metadata"] = {"type": "object"}
    return schema


def _cel_failures(manifest: dict[str, Any]) -> list[str]:
    """The CRDs' x-kubernetes-validations rules, restated."""
    spec = manifest.get("spec") or {}
    found = []
    if (manifest["apiVersion"], manifest["kind"]) == HTTP_SCALED_OBJECT:
        # On scaleTargetRef: has(self.portName) != has(self.port).
        ref = spec.get("scaleTargetRef") or {}
        if ("portName" in ref) == ("port" in ref):
            found.append("spec/scaleTargetRef: must define either the 'portName' or the 'port'")
    if (manifest["apiVersion"], manifest["kind"]) == SCALED_OBJECT:
        # On spec: !has(self.minReplicaCount) || self.minReplicaCount <=
        # (has(self.maxReplicaCount) ? self.maxReplicaCount : 100).
        least, most = spec.get("minReplicaCount"), spec.get("maxReplicaCount")
        most = most if isinstance(most, int) else _DEFAULT_MAX_REPLICAS
        if isinstance(least, int) and least > most:
            found.append("spec: minReplicaCount must be less than or equal to maxReplicaCount")
    return found


def crd_failures(manifest: dict[str, Any]) -> list[str]:
    """Why the CRD refuses the object: schema errors, then its CEL rules."""
    jsonschema = validation_module("jsonschema")
    path = CRDS[(manifest["apiVersion"], manifest["kind"])]
    validator = jsonschema.Draft7Validator(crd_schema(path))
    found = [
        f"{'/'.join(str(p) for p in error.absolute_path) or '(root)'}: {error.message}"
        for error in validator.iter_errors(manifest)
    ]
    return found + _cel_failures(manifest)
