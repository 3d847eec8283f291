"""Benchmark: whole-process wall time of `llmplane plan --json` over every shipped stack."""

from __future__ import annotations

import sys

from timing import REPO, measure

BUDGET_SECONDS = 3.0


def main() -> None:
    """Exit 1 when the median run is over the budget."""
    stacks = sorted(p.name for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
    title = f"llmplane plan --json --no-cache over {len(stacks)} stacks ({', '.join(stacks)})"
    sys.exit(0 if measure(title, ["plan", "--json", "--no-cache"], BUDGET_SECONDS) else 1)


if __name__ == "__main__":
    main()
