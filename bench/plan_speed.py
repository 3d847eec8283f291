"""Benchmark: whole-process wall time of `llmplane plan --json` over every shipped stack."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LLMPLANE = Path(sys.executable).with_name("llmplane")
BUDGET_SECONDS = 3.0
RUNS = 5


def time_once() -> float:
    """Seconds for one cold process: interpreter start, imports, settings, mocks, JSON."""
    start = time.perf_counter()
    subprocess.run(
        [str(LLMPLANE), "plan", "--json"], cwd=REPO, check=True, stdout=subprocess.DEVNULL
    )
    return time.perf_counter() - start


# A fixed pure-Python loop, timed beside the runs: shared machines vary by half or more from
# minute to minute, and this says how fast the machine was while the figures were taken.
REFERENCE = "x = 0\nfor i in range(5_000_000):\n    x += i\n"


def reference_seconds() -> float:
    """Seconds for the reference loop in a fresh interpreter."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", REFERENCE], check=True)
    return time.perf_counter() - start


def main() -> None:
    """Run a warm-up, then RUNS timed runs; print the figures and whether the budget holds."""
    stacks = sorted(p.name for p in (REPO / "stacks").glob("Pulumi.*.yaml"))
    time_once()  # warm the OS file cache so the figure is about llmplane, not the disk
    samples, references = [], []
    for _ in range(RUNS):
        samples.append(time_once())
        references.append(reference_seconds())
    median = statistics.median(samples)
    print(f"llmplane plan --json over {len(stacks)} stacks ({', '.join(stacks)})")
    print(f"runs: {RUNS}  min {min(samples):.2f}s  median {median:.2f}s  max {max(samples):.2f}s")
    print(f"reference loop (machine speed): median {statistics.median(references):.2f}s")
    verdict = "within" if median <= BUDGET_SECONDS else "OVER"
    print(f"budget {BUDGET_SECONDS:.1f}s: {verdict}")
    sys.exit(0 if median <= BUDGET_SECONDS else 1)


if __name__ == "__main__":
    main()
