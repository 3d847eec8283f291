"""`llmplane size`, `compare`, `cost` and `prices import` through the installed console script."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.cli.kube_discovery import discovery_server
from tests.cli.test_cli import assert_bad_input, run
from tests.components.test_gateway import CERT
from tests.conftest import config_with, write_stack

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LLAMA_8B = "meta-llama/Llama-3.1-8B-Instruct"


def test_size_json_reports_weights_kv_fits_and_engine_flags() -> None:
    result = run("size", "--model", LLAMA_8B, "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["estimate"] is True and document["assumptions"]["memoryFraction"] == 0.9
    assert document["kvBytesPerToken"] == 131072
    assert document["weightsGB"] == pytest.approx(16.06, abs=0.01)
    assert {fit["gpu"] for fit in document["fits"]} >= {"L4", "A10G", "H100"}
    args = document["suggested"]["engineArgs"]
    assert "--max-batch-prefill-tokens" in args["tgi"]
    assert "--gpu-memory-utilization" in args["vllm"]
    assert "--mem-fraction-static" in args["sglang"]


def test_size_reads_a_config_file_and_prints_a_labelled_table() -> None:
    result = run("size", "--model-config", str(FIXTURES / "configs" / "tiny-llama-tied.json"))
    assert result.returncode == 0, result.stderr
    assert "1.24B parameters" in result.stdout
    assert "Estimates, not measurements" in " ".join(result.stdout.split())


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("size", "--model", "meta-llama/Llama-3.1-8B-Instrukt"), ("--model", "Llama-3.1-8B")),
        (("size", "--model-config", str(FIXTURES / "configs" / "falcon.json")), ("falcon",)),
        (("size", "--model", LLAMA_8B, "--quantize", "awk"), ("--quantize", "awq")),
        (("compare", "--model", LLAMA_8B, "--regions", "us-east-9"), ("--regions", "us-east-1")),
        (("cost", "no-such-stack"), ("no-such-stack", "aws-dev")),
        (("prices", "import", "/no/such/file.csv"), ("FILE",)),
    ],
)
def test_bad_input_exits_2_with_one_line_naming_valid_choices(
    args: tuple[str, ...], words: tuple[str, ...]
) -> None:
    # HF_HUB_OFFLINE: the unknown model must fail without reaching for the network.
    assert_bad_input(run(*args, env={"HF_HUB_OFFLINE": "1"}), *words)


def test_compare_json_rows_are_sorted_and_labelled() -> None:
    result = run("compare", "--model", LLAMA_8B, "--spot", "--format", "json")
    assert result.returncode == 0, result.stderr
    (document,) = json.loads(result.stdout)["models"]
    assert document["estimate"] is True and document["spot"] is True
    assert "bandwidthEfficiency" in document["assumptions"]
    monthly = [row["usdPerMonth"] for row in document["rows"]]
    assert monthly == sorted(monthly)
    assert {row["cloud"] for row in document["rows"]} == {"aws", "azure", "gcp"}
    assert all(row["priceSource"] and row["priceAsOf"] for row in document["rows"])


def test_compare_markdown_and_plot(tmp_path: Path) -> None:
    chart = tmp_path / "compare.png"
    result = run(
        "compare",
        "--model",
        LLAMA_8B,
        "--model",
        "Qwen/Qwen2.5-72B-Instruct",
        "--regions",
        "us-east-1,eastus,us-central1",
        "--format",
        "markdown",
        "--plot",
        str(chart),
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("| cloud | region |") == 2
    assert result.stdout.count("Estimates, not measurements") == 2
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("fmt", ["json", "markdown", "table"])
def test_cost_prints_items_totals_and_the_estimate_label(fmt: str) -> None:
    result = run("cost", "gcp-dev", "--format", fmt)
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())
    if fmt == "json":
        (document,) = json.loads(result.stdout)["stacks"]
        cost = document["cost"]
        assert document["stack"] == "gcp-dev"
        assert cost["estimate"] is True and cost["monthly"]["expected"] > 0
    else:
        assert "GKE cluster management" in text and "total" in text
        assert "Estimates, not measurements" in text


def test_prices_import_writes_the_catalog_format(tmp_path: Path) -> None:
    out = tmp_path / "prices.csv"
    source = FIXTURES / "prices" / "skypilot" / "gcp" / "vms.csv"
    result = run("prices", "import", str(source), "--as-of", "2026-11-01", "--output", str(out))
    assert result.returncode == 0, result.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "cloud,shape,region,on_demand_usd_hour,spot_usd_hour,source,as_of"
    assert all(line.startswith("gcp,") and line.endswith(",2026-11-01") for line in lines[1:])
    # The imported file can replace the shipped prices.
    compare = run(
        "compare", "--model", LLAMA_8B, "--format", "json", env={"LLMPLANE_PRICES": str(out)}
    )
    assert compare.returncode == 0, compare.stderr
    rows = json.loads(compare.stdout)["models"][0]["rows"]
    assert rows and {row["cloud"] for row in rows} == {"gcp"}


def test_render_writes_one_redacted_file_per_object(tmp_path: Path) -> None:
    out = tmp_path / "manifests"
    result = run("render", "azure-dev", "--out", str(out))
    assert result.returncode == 0, result.stderr
    files = sorted(out.glob("*.yaml"))
    assert f"{len(files)} objects written" in result.stdout
    names = {f.name for f in files}
    assert "deployment-llm-azure-dev-inference.yaml" in names
    assert "scaledobject-llm-azure-dev-inference.yaml" in names
    assert not any(name.startswith("release-") for name in names)  # Helm renders its charts
    for file in files:
        (document,) = yaml.safe_load_all(file.read_text())
        assert document["apiVersion"] and document["kind"]


def test_render_keeps_secret_keys_and_redacts_only_their_values(tmp_path: Path) -> None:
    config = config_with(exposure="public", tlsCertificate=CERT)
    ciphertexts = {key: f"v1:AAAA{key}Ciphertext" for key in ("hfToken", "apiKeys", "tlsKey")}
    for key, ciphertext in ciphertexts.items():
        config[f"llmplane:{key}"] = {"secure": ciphertext}
    write_stack(tmp_path, config, "pub")
    out = tmp_path / "manifests"
    result = run("render", "pub", "--stacks-dir", str(tmp_path), "--out", str(out))
    assert result.returncode == 0, result.stderr
    texts = {f.name: f.read_text() for f in out.glob("*.yaml")}
    assert not [c for c in ciphertexts.values() for text in texts.values() if c in text]
    secrets = [yaml.safe_load(t) for name, t in texts.items() if name.startswith("secret-")]
    # Kubernetes needs a map of key to string; the keys are what the pods mount.
    assert {s["metadata"]["name"]: s["stringData"] for s in secrets} == {
        "inference-hf-token": {"HF_TOKEN": "[secret]"},
        "gateway-keys": {"keys.map": "[secret]"},
        "gateway-tls": {"tls.crt": "[secret]", "tls.key": "[secret]"},
    }


@pytest.mark.parametrize("stack", ["aws-dev", "azure-dev", "gcp-dev", "kubernetes-dev"])
def test_rendered_manifests_pass_kubectl_client_dry_run(stack: str, tmp_path: Path) -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed here; with it, `kubectl apply --dry-run=client` runs")
    out = tmp_path / "manifests"
    assert run("render", stack, "--out", str(out)).returncode == 0
    documents = [yaml.safe_load(f.read_text()) for f in sorted(out.glob("*.yaml"))]
    # Even a client dry run maps kinds through discovery: a loopback stand-in answers it.
    with discovery_server((d["apiVersion"], d["kind"]) for d in documents) as server:
        result = subprocess.run(
            [kubectl, "apply", "--dry-run=client", "--validate=false", f"--server={server}",
             f"--cache-dir={tmp_path / 'cache'}", "-f", str(out)],
            capture_output=True, text=True, timeout=120, check=False,
            env={"KUBECONFIG": str(tmp_path / "none"), "PATH": os.environ["PATH"],
                 "HOME": str(tmp_path)},
        )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("created (dry run)") == len(documents), result.stdout
