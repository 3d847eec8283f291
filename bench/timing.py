"""Shared by the benchmarks: time whole `llmplane` processes beside a machine-speed reference."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LLMPLANE = Path(sys.executable).with_name("llmplane")
RUNS = 5

# A fixed pure-Python loop, timed beside the runs: shared machines vary by half or more from
# minute to minute, and this says how fast the machine was while the figures were taken.
REFERENCE = "x = 0\nfor i in range(5_000_000):\n    x += i\n"


def time_once(args: Sequence[str]) -> float:
    """Seconds for one cold `llmplane` process: interpreter start, imports, work, output."""
    start = time.perf_counter()
    subprocess.run([str(LLMPLANE), *args], cwd=REPO, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def reference_seconds() -> float:
    """Seconds for the reference loop in a fresh interpreter."""
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", REFERENCE], check=True)
    return time.perf_counter() - start


def measure(title: str, args: Sequence[str], budget: float) -> bool:
    """Warm up, time RUNS runs, print the figures; True when the median is within budget."""
    time_once(args)  # warm the OS file cache so the figure is about llmplane, not the disk
    samples, references = [], []
    for _ in range(RUNS):
        samples.append(time_once(args))
        references.append(reference_seconds())
    median = statistics.median(samples)
    print(title)
    print(f"runs: {RUNS}  min {min(samples):.2f}s  median {median:.2f}s  max {max(samples):.2f}s")
    print(f"reference loop (machine speed): median {statistics.median(references):.2f}s")
    print(f"budget {budget:.1f}s: {'within' if median <= budget else 'OVER'}")
    return median <= budget
