"""Benchmark: `llmplane check --resources FILE` against Checkov on the same stack's objects.

Both are whole processes, as CI runs them. llmplane checks the aws-dev stack export fixture
(every resource: cloud and Kubernetes, 90+ policies); Checkov scans the Kubernetes objects
`llmplane render aws-dev` writes (a subset). The target is llmplane at least 5x faster.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from timing import LLMPLANE, REPO, RUNS, reference_seconds

CHECKOV = REPO / ".venv-checkov" / "bin" / "checkov"
EXPORT = REPO / "tests" / "fixtures" / "pulumi" / "aws-dev.stack-export.json"
TARGET_RATIO = 5.0


def seconds(command: list[str]) -> float:
    """Wall time of one process; its exit code is not judged (a finding is not a failure)."""
    start = time.perf_counter()
    subprocess.run(
        command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False
    )
    return time.perf_counter() - start


def median_of(command: list[str], runs: int) -> float:
    """Warm once, then the median of `runs` runs."""
    seconds(command)
    samples = [seconds(command) for _ in range(runs)]
    print(
        f"  {Path(command[0]).name}: min {min(samples):.2f}s  median "
        f"{statistics.median(samples):.2f}s  max {max(samples):.2f}s"
    )
    return statistics.median(samples)


def main() -> None:
    """Exit 1 when llmplane is less than TARGET_RATIO times faster than Checkov."""
    if not CHECKOV.exists():
        sys.exit("checkov is not installed: run `make install` first")
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run(
            [str(LLMPLANE), "render", "aws-dev", "--out", folder],
            cwd=REPO,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        objects = len(list(Path(folder).glob("*.yaml")))
        print(f"aws-dev: llmplane check on {EXPORT.name}; checkov on {objects} rendered objects")
        ours = median_of([str(LLMPLANE), "check", "--resources", str(EXPORT)], RUNS)
        theirs = median_of(
            [str(CHECKOV), "-d", folder, "--framework", "kubernetes", "--quiet", "-o", "json"], 3
        )
    ratio = theirs / ours
    print(f"reference loop (machine speed): {reference_seconds():.2f}s")
    print(
        f"llmplane is {ratio:.1f}x faster (target {TARGET_RATIO:.0f}x): "
        f"{'met' if ratio >= TARGET_RATIO else 'MISSED'}"
    )
    sys.exit(0 if ratio >= TARGET_RATIO else 1)


if __name__ == "__main__":
    main()
