"""Benchmark: wall time of one `llmplane compare` process for 10 models, all clouds and regions."""

from __future__ import annotations

import sys

from timing import measure

from llmplane.infra.sizing.models import builtin_ids

BUDGET_SECONDS = 1.0
MODELS = 10


def main() -> None:
    """Exit 1 when the median run is over the budget."""
    # One id per architecture: aliases (base and instruct) would size the same model twice.
    by_file: dict[str, str] = {}
    for model_id, file in sorted(builtin_ids().items()):
        by_file.setdefault(file, model_id)
    models = sorted(by_file.values())[:MODELS]
    args = ["compare", "--format", "json"]
    for model in models:
        args += ["--model", model]
    title = f"llmplane compare --format json for {len(models)} models, every cloud and region"
    sys.exit(0 if measure(title, args, BUDGET_SECONDS) else 1)


if __name__ == "__main__":
    main()
