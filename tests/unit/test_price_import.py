"""Importing gpuhunt and SkyPilot price catalogs into llmplane's prices.csv format."""

from __future__ import annotations

import csv
import io
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.sizing.prices import HEADER, ImportResult, PriceRow, import_prices, to_csv

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"
GPUHUNT_HEADER = "instance_name,location,price,cpu,memory,gpu_count,gpu_name,gpu_memory,spot\n"


def prices(result: ImportResult) -> dict[tuple[str, str], tuple[float | None, float | None]]:
    """Each row's (on-demand, spot) by (shape, region)."""
    return {(row.shape, row.region): (row.on_demand, row.spot) for row in result.rows}


def write(directory: Path, name: str, text: str) -> Path:
    """A CSV file under `directory`, made of `text`."""
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_gpuhunt_zones_and_spot_rows_collapse_to_one_row_per_region() -> None:
    result = import_prices(FIXTURES / "gpuhunt" / "aws.csv", as_of="2026-11-28")
    assert prices(result) == {
        ("g5.xlarge", "us-east-1"): (1.006, 0.3918),
        ("g5.xlarge", "us-west-2"): (1.006, 0.4461),
        ("g6.xlarge", "us-east-2"): (None, 0.3217),
        ("p5.48xlarge", "us-east-1"): (98.32, None),
    }
    assert {row.cloud for row in result.rows} == {"aws"}
    assert {row.source for row in result.rows} == {"gpuhunt aws.csv"}
    assert {row.as_of for row in result.rows} == {"2026-11-28"}


def test_gpuhunt_skips_and_counts_unknown_instances() -> None:
    result = import_prices(FIXTURES / "gpuhunt" / "aws.csv")
    shapes = {row.shape for row in result.rows}
    assert "g4dn.xlarge" not in shapes
    assert "m5.xlarge" not in shapes
    assert result.skipped == 2


def test_gpuhunt_gcp_zones_fold_into_regions() -> None:
    result = import_prices(FIXTURES / "gpuhunt" / "gcp.csv")
    assert prices(result) == {
        ("a3-highgpu-8g", "europe-west4"): (88.253, None),
        ("g2-standard-8", "us-central1"): (0.85416, 0.30416),
    }
    assert result.skipped == 1


def test_gpuhunt_cloud_argument_wins_over_file_name(tmp_path: Path) -> None:
    text = GPUHUNT_HEADER + "Standard_NC4as_T4_v3,eastus,0.526,4,28,1,T4,16,true\n"
    result = import_prices(write(tmp_path, "offers.csv", text), cloud="Azure")
    assert prices(result) == {("Standard_NC4as_T4_v3", "eastus"): (None, 0.526)}
    assert result.rows[0].cloud == "azure"


def test_gpuhunt_without_cloud_or_telling_file_name_is_an_error(tmp_path: Path) -> None:
    path = write(tmp_path, "offers.csv", GPUHUNT_HEADER)
    with pytest.raises(SettingsError) as raised:
        import_prices(path)
    assert raised.value.key == "--cloud"
    assert "aws, azure, gcp" in raised.value.fix


def test_unknown_cloud_is_an_error() -> None:
    with pytest.raises(SettingsError) as raised:
        import_prices(FIXTURES / "gpuhunt" / "aws.csv", cloud="oci")
    assert raised.value.key == "--cloud"
    assert "'oci'" in raised.value.problem


def test_skypilot_aws_takes_lowest_spot_across_zones() -> None:
    result = import_prices(FIXTURES / "skypilot" / "aws" / "vms.csv")
    assert prices(result) == {
        ("g5.xlarge", "us-east-1"): (1.006, 0.3918),
        ("g5.xlarge", "us-west-2"): (1.006, 0.4461),
        ("p4d.24xlarge", "us-east-1"): (32.7726, 12.4023),
    }
    # t3.large is no GPU shape; g5.xlarge in eu-west-1 has no price at all.
    assert result.skipped == 2
    assert {row.source for row in result.rows} == {"SkyPilot vms.csv"}


def test_skypilot_gcp_adds_the_gpu_row_to_the_machine_row() -> None:
    result = import_prices(FIXTURES / "skypilot" / "gcp" / "vms.csv")
    found = prices(result)
    on_demand, spot = found["g2-standard-8", "us-central1"]
    assert on_demand == pytest.approx(0.29416 + 0.56)
    assert spot == pytest.approx(0.10766 + 0.224)
    assert found["a2-highgpu-1g", "us-central1"] == pytest.approx((0.7 + 2.934, 0.28 + 1.17))
    # n2-standard-8 is unknown; a3-highgpu-8g has no H100 row in europe-west4.
    assert set(found) == {
        ("a2-highgpu-1g", "us-central1"),
        ("a2-ultragpu-1g", "us-central1"),
        ("g2-standard-8", "us-central1"),
    }
    assert result.skipped == 2


def test_skypilot_gcp_a2_ultragpu_uses_the_80gb_a100() -> None:
    result = import_prices(FIXTURES / "skypilot" / "gcp" / "vms.csv")
    on_demand, spot = prices(result)["a2-ultragpu-1g", "us-central1"]
    assert on_demand == pytest.approx(0.8 + 3.9284)
    assert spot == pytest.approx(0.32 + 1.5714)


def test_skypilot_gcp_sums_print_without_float_noise() -> None:
    result = import_prices(FIXTURES / "skypilot" / "gcp" / "vms.csv", as_of="2026-11-28")
    lines = to_csv(result.rows).splitlines()
    assert "gcp,g2-standard-8,us-central1,0.85416,0.33166,SkyPilot vms.csv,2026-11-28" in lines


def test_skypilot_needs_cloud_when_folder_does_not_say(tmp_path: Path) -> None:
    header = "InstanceType,AcceleratorName,AcceleratorCount,Price,SpotPrice,Region\n"
    path = write(tmp_path, "catalog/vms.csv", header + "g5.xlarge,A10G,1,1.006,,us-east-1\n")
    with pytest.raises(SettingsError) as raised:
        import_prices(path)
    assert raised.value.key == "--cloud"
    assert import_prices(path, cloud="aws").rows[0].on_demand == 1.006


def test_unrecognised_header_names_the_expected_columns(tmp_path: Path) -> None:
    path = write(tmp_path, "aws.csv", "name,zone,usd\ng5.xlarge,us-east-1a,1.006\n")
    with pytest.raises(SettingsError) as raised:
        import_prices(path)
    assert raised.value.key == "FILE"
    assert "instance_name location price spot" in raised.value.problem
    assert "InstanceType" in raised.value.problem


def test_empty_file_is_an_unrecognised_header(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="neither gpuhunt nor SkyPilot"):
        import_prices(write(tmp_path, "aws.csv", ""))


def test_bad_number_names_the_line(tmp_path: Path) -> None:
    text = (
        GPUHUNT_HEADER
        + "g5.xlarge,us-east-1,1.006,4,16,1,A10G,24,False\n"
        + "g5.xlarge,us-east-1a,0.42USD,4,16,1,A10G,24,True\n"
    )
    with pytest.raises(SettingsError) as raised:
        import_prices(write(tmp_path, "aws.csv", text))
    assert raised.value.key == "FILE"
    assert "line 3" in raised.value.problem
    assert "'0.42USD'" in raised.value.problem
    assert "\n" not in str(raised.value)


def test_bad_spot_flag_names_the_line(tmp_path: Path) -> None:
    text = GPUHUNT_HEADER + "g5.xlarge,us-east-1,1.006,4,16,1,A10G,24,maybe\n"
    with pytest.raises(SettingsError, match="line 2: spot is 'maybe'"):
        import_prices(write(tmp_path, "aws.csv", text))


def test_missing_file_is_a_settings_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as raised:
        import_prices(tmp_path / "aws.csv")
    assert raised.value.key == "FILE"
    assert "cannot read" in raised.value.problem


def test_bad_as_of_is_a_settings_error() -> None:
    with pytest.raises(SettingsError, match="not a date"):
        import_prices(FIXTURES / "gpuhunt" / "aws.csv", as_of="last week")


def test_as_of_defaults_to_the_file_date_in_utc(tmp_path: Path) -> None:
    path = write(tmp_path, "aws.csv", GPUHUNT_HEADER + "g5.xlarge,us-east-1,1.006,4,16,1,A,24,0\n")
    stamp = datetime(2026, 3, 1, 23, 30, tzinfo=UTC).timestamp()
    os.utime(path, (stamp, stamp))
    assert import_prices(path).rows[0].as_of == "2026-03-01"


def test_to_csv_header_is_exact_and_rows_round_trip() -> None:
    rows = import_prices(FIXTURES / "gpuhunt" / "aws.csv", as_of="2026-11-28").rows
    text = to_csv(rows)
    assert text.startswith("cloud,shape,region,on_demand_usd_hour,spot_usd_hour,source,as_of\n")
    assert text == to_csv(rows)
    assert "\r" not in text
    parsed = list(csv.DictReader(io.StringIO(text)))
    assert tuple(parsed[0]) == HEADER
    assert [
        PriceRow(
            cloud=line["cloud"],
            shape=line["shape"],
            region=line["region"],
            on_demand=float(line["on_demand_usd_hour"]) if line["on_demand_usd_hour"] else None,
            spot=float(line["spot_usd_hour"]) if line["spot_usd_hour"] else None,
            source=line["source"],
            as_of=line["as_of"],
        )
        for line in parsed
    ] == rows


def test_to_csv_writes_minimal_decimals_and_empty_for_unknown() -> None:
    row = PriceRow("aws", "g6.xlarge", "us-east-2", None, 1.006, "gpuhunt aws.csv", "2026-11-28")
    assert (
        to_csv([row]).splitlines()[1] == "aws,g6.xlarge,us-east-2,,1.006,gpuhunt aws.csv,2026-11-28"
    )


def test_import_rows_are_sorted_by_shape_then_region() -> None:
    rows = import_prices(FIXTURES / "skypilot" / "aws" / "vms.csv").rows
    keys = [(row.cloud, row.shape, row.region) for row in rows]
    assert keys == sorted(keys)
