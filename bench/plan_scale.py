"""Benchmark: planning at a platform team's scale, as ratios to reference runs in this process.

- 50 stacks of one cloud (copies of aws-dev) against the 5 shipped stacks: within 3x.
- The same 50 stacks again, unchanged, from the plan cache, against `llmplane --help`: within
  1.5x (a run whose stacks all hit loads neither Pulumi nor a provider SDK).
Each figure is the median of a few whole `llmplane` processes; the ratio, not the seconds, is
the budget, so a slow or busy machine moves both sides alike.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import LLMPLANE, REPO

RUNS = 3
SCALE_RATIO = 3.0
CACHED_RATIO = 1.5


def _median_seconds(args: list[str], env: dict[str, str]) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(
            [str(LLMPLANE), *args], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL
        )
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def _report(title: str, seconds: float, reference: float, budget: float) -> bool:
    ratio = seconds / reference
    verdict = "within" if ratio <= budget else "OVER"
    print(
        f"{title}: {seconds:.2f}s vs {reference:.2f}s = {ratio:.2f}x (budget {budget}x): {verdict}"
    )
    return ratio <= budget


def main() -> None:
    """Exit 1 when a ratio is over its budget."""
    with tempfile.TemporaryDirectory() as scratch:
        fleet = Path(scratch) / "stacks"
        fleet.mkdir()
        for index in range(50):
            shutil.copy(
                REPO / "stacks" / "Pulumi.aws-dev.yaml", fleet / f"Pulumi.aws-{index:02}.yaml"
            )
        cold = {**os.environ, "LLMPLANE_CACHE_DIR": str(Path(scratch) / "none")}
        ok = True
        # Uncached on both sides: --no-cache, so neither run reads what the other stored.
        shipped = _median_seconds(["plan", "--json", "--no-cache"], cold)
        fifty = _median_seconds(["plan", "--json", "--no-cache", "--stacks-dir", str(fleet)], cold)
        ok &= _report("50 AWS stacks vs the 5 shipped", fifty, shipped, SCALE_RATIO)
        warm = {**os.environ, "LLMPLANE_CACHE_DIR": str(Path(scratch) / "cache")}
        subprocess.run(
            [str(LLMPLANE), "plan", "--json", "--stacks-dir", str(fleet)],
            cwd=REPO, env=warm, check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        cached = _median_seconds(["plan", "--json", "--stacks-dir", str(fleet)], warm)
        help_seconds = _median_seconds(["--help"], warm)
        ok &= _report("50 cached stacks vs llmplane --help", cached, help_seconds, CACHED_RATIO)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
