"""Regenerate components/schema.json, the golden schema of llmplane's component package.

Run `.venv/bin/python -m tests.components.update_schema` from the repository root after changing
a component's args, outputs or docstrings (or the package's version), and review the diff as part
of the change: it is what `pulumi package add ./components` gives programs in other languages.
tests/components/test_component_package.py fails until the file matches.
"""

from __future__ import annotations

import json
import runpy
from pathlib import Path
from typing import Any

from pulumi.provider.experimental.component import ComponentProvider

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "components"
ENTRY = PLUGIN / "__main__.py"
GOLDEN = PLUGIN / "schema.json"


def package() -> dict[str, Any]:
    """components/__main__.py's globals, run as a script under another name: it serves nothing."""
    return runpy.run_path(str(ENTRY), run_name="llmplane_component_package")


def generated() -> dict[str, Any]:
    """The schema the package serves: its provider runs the analyzer and generate_schema."""
    provider: ComponentProvider = package()["provider"]()
    # The gRPC server answers GetSchema with the provider's `schema`, as it was built.
    assert provider.schema is not None
    return json.loads(provider.schema)


def render(schema: dict[str, Any]) -> str:
    """The golden file's text: sorted keys and an indent, so that a change reads as a small diff."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    """Write the generated schema over the golden file."""
    GOLDEN.write_text(render(generated()), encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(REPO)}")


if __name__ == "__main__":
    main()
