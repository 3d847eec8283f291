"""`pip install 'llmplane[aws]'` into a fresh virtual environment, as a library user does it.

The distribution must install one import namespace, `llmplane`, and only the SDKs the chosen
extra names: an AWS user gets pulumi, pulumi-kubernetes and pulumi-aws, and no other cloud.
This builds the wheel from a copy of the tracked sources (so no build output lands in the
repository) and installs it with pip from the package index, as a user's machine would; pip's
cache makes the second run of the day take about half a minute.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from tests.conftest import REPO

SOURCES = ("pyproject.toml", "README.md", "infra", "components", "policies")
OTHER_CLOUDS = ("pulumi_azure_native", "pulumi_gcp")


def _copy_sources(into: Path) -> Path:
    """The files a wheel is built from, without caches or the editable link tree."""
    tree = into / "llmplane-src"
    tree.mkdir()
    for name in SOURCES:
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, tree / name)
    return tree


@pytest.fixture(scope="module")
def aws_env(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with `llmplane[aws]` installed from a wheel of the current sources."""
    root = tmp_path_factory.mktemp("extras")
    tree = _copy_sources(root)
    env = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env)
    python = env / "bin" / "python"
    result = subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "--disable-pip-version-check", f"{tree}[aws]"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return python


def _run(python: Path, code: str) -> subprocess.CompletedProcess[str]:
    # From a neutral folder: the repository's own folders must not be what gets imported.
    return subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=300, cwd=python.parent
    )


def test_the_aws_extra_installs_the_aws_components_under_the_llmplane_namespace(
    aws_env: Path,
) -> None:
    result = _run(
        aws_env,
        "import sys\n"
        "from llmplane.components.aws import EksGpuCluster, EksGpuNodePool\n"
        "from llmplane.components.kubernetes.inference import InferenceService\n"
        "import llmplane.components as c\n"
        "print(c.__file__)\n"
        "top = ('infra', 'components', 'policies')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in top))",
    )
    assert result.returncode == 0, result.stderr[-3000:]
    location, stray = result.stdout.splitlines()
    assert "site-packages/llmplane/components/" in location
    assert str(REPO) not in location
    # No generic top-level package that a user's own components/ folder would shadow.
    assert stray == "[]"


def test_the_aws_extra_brings_no_other_cloud(aws_env: Path) -> None:
    listing = subprocess.run(
        [str(aws_env), "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    installed = {line.split("==")[0].replace("_", "-") for line in listing.splitlines()}
    assert {"llmplane", "pulumi", "pulumi-kubernetes", "pulumi-aws"} <= installed
    assert not installed & {"pulumi-azure-native", "pulumi-gcp", "pulumi-policy", "pydantic"}
    for module in OTHER_CLOUDS:
        result = _run(aws_env, f"import {module}")
        assert "ModuleNotFoundError" in result.stderr, module
    # Another cloud's components say which SDK is missing, in Python's own words.
    result = _run(aws_env, "import llmplane.components.gcp")
    assert "No module named 'pulumi_gcp'" in result.stderr


def test_the_command_without_its_extra_says_what_to_install(aws_env: Path) -> None:
    command = aws_env.with_name("llmplane")
    result = subprocess.run([str(command), "--help"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert "pip install 'llmplane[cli]'" in result.stderr


def test_the_base_install_is_kubernetes_only() -> None:
    """Without an extra, pip resolves llmplane to pulumi and pulumi-kubernetes alone."""
    metadata = subprocess.run(
        [sys.executable, "-c", "import importlib.metadata as m; print(m.requires('llmplane'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    requirements = ast.literal_eval(metadata)
    base = sorted(r.split(">")[0].split("<")[0] for r in requirements if "extra ==" not in r)
    assert base == ["pulumi", "pulumi-kubernetes"]
