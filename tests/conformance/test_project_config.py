"""Pulumi.yaml and the stack files, checked by the rules the Pulumi CLI applies before a preview."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from pydantic import BaseModel

from llmplane.infra.config.settings import parse
from llmplane.infra.config.stackfile import read_stack_file
from llmplane.infra.config.stacks import STACK_MODELS
from tests.conformance.cli_rules import (
    CliError,
    Project,
    load_project,
    load_yaml,
    merge_config,
    program_config,
    stack_values,
)
from tests.conftest import REPO, STACKS, config_with

PROJECT_FILE = REPO / "Pulumi.yaml"
PIP_DRY_RUN = (sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "-q")
SHIPPED = sorted(STACKS.glob("Pulumi.*.yaml"))
# A public stack with every secret set, as `pulumi config set --secret` leaves it (decrypted).
PUBLIC_SECRETS = {
    "llmplane:apiKeys": "0f" * 32,
    "llmplane:tlsKey": "-----BEGIN PRIVATE KEY-----\nMIIEv\n-----END PRIVATE KEY-----\n",
    "llmplane:hfToken": "hf_" + "a" * 34,
}
PUBLIC = {
    **config_with(exposure="public"),
    "llmplane:tlsCertificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
    **PUBLIC_SECRETS,
}


@pytest.fixture(scope="module")
def project() -> Project:
    return load_project(PROJECT_FILE)


def _stacks() -> list[tuple[str, dict[str, Any], frozenset[str]]]:
    shipped = [read_stack_file(path) for path in SHIPPED]
    return [*shipped, ("public", PUBLIC, frozenset(PUBLIC_SECRETS))]


STACK_CASES = _stacks()
STACK_IDS = [stack for stack, _, _ in STACK_CASES]


def test_the_project_file_is_valid_yaml_and_a_valid_project(project: Project) -> None:
    assert project.name == "llmplane"
    assert project.main is not None and (REPO / project.main / "__main__.py").is_file()


def _program_keys() -> dict[str, str]:
    """Every llmplane: key the program reads, with the project-schema type its value has."""
    keys = {}
    fields = {n: f for model in STACK_MODELS.values() for n, f in model.model_fields.items()}
    for name, field in fields.items():
        if name in {"stack", "provider"}:
            continue
        annotation = field.annotation
        structured = any(
            a is dict or (isinstance(a, type) and issubclass(a, BaseModel))
            for a in (annotation, getattr(annotation, "__origin__", None), *get_args(annotation))
        )
        keys[f"llmplane:{field.alias or name}"] = "object" if structured else "string"
    return keys


def test_every_key_the_program_reads_is_declared_with_its_type(project: Project) -> None:
    declared = {key: d.type for key, d in project.config.items()}
    assert declared == _program_keys()
    assert all(d.description for d in project.config.values())


@pytest.mark.parametrize("key", ["model", "gpu", "replicas", "cluster", "network"])
def test_object_descriptions_name_every_field(project: Project, key: str) -> None:
    # Each cloud has its own model of the section; the one declaration describes them all.
    models = {
        m.model_fields[key].annotation for m in STACK_MODELS.values() if key in m.model_fields
    }
    description = project.config[f"llmplane:{key}"].description
    missing = set()
    for model in models:
        assert isinstance(model, type) and issubclass(model, BaseModel)
        missing |= {
            f.alias or n for n, f in model.model_fields.items() if (f.alias or n) not in description
        }
    assert not missing


def test_no_declared_key_is_both_defaulted_and_marked_secret(project: Project) -> None:
    # The CLI merges the default in unencrypted, then refuses it as a plaintext secret.
    assert not [k for k, d in project.config.items() if d.secret and d.default is not None]


@pytest.mark.parametrize(("stack", "config", "secure"), STACK_CASES, ids=STACK_IDS)
def test_the_cli_accepts_every_stack(
    project: Project, stack: str, config: dict[str, Any], secure: frozenset[str]
) -> None:
    merge_config(project, stack, stack_values(config, secure))


@pytest.mark.parametrize(("stack", "config", "secure"), STACK_CASES, ids=STACK_IDS)
def test_the_program_reads_the_cli_config_as_the_stack_file_means_it(
    project: Project, stack: str, config: dict[str, Any], secure: frozenset[str]
) -> None:
    """Declared defaults reach the program; they must mean exactly what leaving a key out means."""
    handed, secret_keys = program_config(merge_config(project, stack, stack_values(config, secure)))
    assert set(handed) > set(config)
    assert parse(stack, handed, frozenset(secret_keys)) == parse(stack, config, secure)


def test_the_rules_refuse_what_the_cli_refuses(project: Project) -> None:
    """The restated rules are not vacuous: each reproduces an error of Pulumi's own tests."""
    bare: dict[str, Any] = {}
    with pytest.raises(
        CliError,
        match=r"^Stack 'dev' is missing configuration values 'llmplane:cloud' and 'llmplane:model'",
    ):
        merge_config(project, "dev", stack_values(bare, frozenset()))
    wrong = {**config_with(), "llmplane:model": "meta-llama/Llama-3.1-8B-Instruct"}
    with pytest.raises(CliError, match="'llmplane:model' must be of type 'object'"):
        merge_config(project, "dev", stack_values(wrong, frozenset()))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("name: p\nruntime: python\nconfig:\n  p:k:\n    description: a: b\n", "could not parse"),
        ("name: p\nruntime: python\nname: q\n", "already defined"),
        ("name: p\nruntime: python\nconfig:\n  p:k:\n    type: map\n", "must be one of"),
        ("name: p\nruntime: python\nconfig:\n  p:k:\n    type: array\n", "'items' attribute"),
        (
            "name: p\nruntime: python\nconfig:\n  p:k:\n    type: integer\n    default: x\n",
            "expected type 'integer'",
        ),
        (
            "name: p\nruntime: python\nconfig:\n  aws:region:\n    type: string\n",
            "should not define a type",
        ),
        ("name: p\nruntime: python\nconfig:\n  p:k:\n    kind: string\n", "not allowed"),
    ],
)
def test_project_files_the_cli_refuses(tmp_path: Path, text: str, error: str) -> None:
    path = tmp_path / "Pulumi.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CliError, match=error):
        load_project(path)


def test_a_secret_declaration_refuses_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.yaml"
    path.write_text(
        "name: p\nruntime: python\nconfig:\n  p:k:\n    type: string\n    secret: true\n"
    )
    with pytest.raises(CliError, match="must be encrypted as it's secret"):
        merge_config(load_project(path), "dev", stack_values({"p:k": "plain"}, frozenset()))
    merge_config(load_project(path), "dev", stack_values({"p:k": "x"}, frozenset({"p:k"})))


def test_the_virtualenv_resolves_to_the_one_make_builds(project: Project) -> None:
    # resolveVirtualEnvironmentPath: relative to the folder of Pulumi.yaml, not to `main`.
    options = project.runtime["options"]
    assert (PROJECT_FILE.parent / options["virtualenv"]).resolve() == REPO / ".venv"
    # The language host runs `python -m <typechecker>` from the venv before every preview, and
    # `pulumi install` installs only infra/requirements.txt: a typechecker must come from there.
    assert "typechecker" not in options
    pack = load_yaml(REPO / "policies" / "PulumiPolicy.yaml")
    assert (
        REPO / "policies" / pack["runtime"]["options"]["virtualenv"]
    ).resolve() == REPO / ".venv"


def test_pulumi_install_installs_llmplane_from_the_program_directory(project: Project) -> None:
    """`pulumi install` runs `pip install -r requirements.txt` with the program folder as cwd."""
    program = REPO / str(project.main)
    report = subprocess.run(
        [*PIP_DRY_RUN, "-r", "requirements.txt", "--report", "-"],
        cwd=program,
        capture_output=True,
        text=True,
        check=True,
    )
    installs = json.loads(report.stdout)["install"]
    assert [(i["metadata"]["name"], i["download_info"]["url"]) for i in installs] == [
        ("llmplane", REPO.as_uri())
    ]


def test_the_policy_pack_declares_the_version_it_reports() -> None:
    from llmplane.policies.pack import PACK_VERSION

    pack = yaml.safe_load((REPO / "policies" / "PulumiPolicy.yaml").read_text(encoding="utf-8"))
    # Without `version` the CLI reports the pack as llmplane@v0.0.1 (pulumi_policy's fallback).
    assert pack.get("version") == PACK_VERSION
