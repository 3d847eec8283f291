"""StackSettings: valid stacks get secure defaults; each class of bad input gives one clear line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from llmplane.infra.config.errors import SettingsError
from llmplane.infra.config.settings import AwsStack, parse
from llmplane.infra.config.stackfile import SECRET_PLACEHOLDER, read_stack_file, stack_name
from tests.conftest import BASE_CONFIG, config_with

HOURS = {"timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 20 * * 1-5"}


def aws(**changes: Any) -> dict[str, Any]:
    """A valid AWS stack with `changes` applied."""
    return config_with(cloud="aws", **{"aws:region": "us-east-1"}, **changes)


SUBNET = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/"
    "Microsoft.Network/virtualNetworks/{vnet}/subnets/{subnet}"
)


def azure(**changes: Any) -> dict[str, Any]:
    """A valid Azure stack with `changes` applied."""
    return config_with(cloud="azure", **{"azure-native:location": "eastus"}, **changes)


def _error(config: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> SettingsError:
    with pytest.raises(SettingsError) as caught:
        parse("dev", config, secret_keys)
    return caught.value


def test_minimal_stack_gets_secure_defaults() -> None:
    existing = parse("dev", BASE_CONFIG)
    assert existing.cloud == "kubernetes"
    assert existing.engine == "tgi"
    assert existing.exposure == "internal"
    assert existing.gpu.count == 1
    settings = parse("dev", aws())
    assert isinstance(settings, AwsStack)
    assert settings.cluster.private_endpoint is True
    assert settings.cluster.authorized_cidrs == ()
    assert settings.cluster.allow_open_endpoint is False
    assert settings.gpu.spot is False
    assert settings.gpu.count == 1
    assert settings.replicas.min == 1 and settings.replicas.max == 1
    assert settings.hf_token is None


def test_full_managed_stack_parses() -> None:
    settings = parse(
        "prod",
        {
            "llmplane:cloud": "aws",
            "aws:region": "us-east-1",
            "llmplane:model": {
                "id": "meta-llama/Llama-3.1-70B-Instruct",
                "revision": "main",
                "quantize": "awq",
                "maxInputTokens": 8000,
                "maxTotalTokens": 8192,
            },
            "llmplane:engine": "vllm",
            "llmplane:gpu": {"shape": "g6e.12xlarge", "count": 4, "spot": True, "maxNodes": 3},
            "llmplane:replicas": {"min": 0, "max": 3},
            "llmplane:cluster": {"privateEndpoint": False, "authorizedCidrs": ["203.0.113.0/24"]},
            "llmplane:tags": {"team": "ml"},
            "llmplane:hfToken": SECRET_PLACEHOLDER,
        },
        frozenset({"llmplane:hfToken"}),
    )
    assert isinstance(settings, AwsStack)
    assert settings.provider.aws_region == "us-east-1"
    assert settings.model.quantize == "awq"
    assert settings.gpu.count == 4 and settings.gpu.min_nodes == 0
    assert settings.cluster.authorized_cidrs == ("203.0.113.0/24",)
    assert settings.hf_token is not None
    # The token never shows in the settings' repr, which ends up in logs and tracebacks.
    assert SECRET_PLACEHOLDER not in repr(settings)


def test_structured_values_arrive_as_json_text_from_pulumi() -> None:
    settings = parse(
        "dev",
        {"llmplane:cloud": "kubernetes", "llmplane:model": '{"id": "Qwen/Qwen2.5-7B-Instruct"}'},
    )
    assert settings.model.id == "Qwen/Qwen2.5-7B-Instruct"


def test_keys_without_namespace_belong_to_the_project(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.short.yaml"
    path.write_text("config:\n  cloud: kubernetes\n  model:\n    id: org/model\n")
    stack, config, _ = read_stack_file(path)
    assert stack == "short"
    assert parse(stack, config).cloud == "kubernetes"


def test_secure_values_become_secret_placeholders(tmp_path: Path) -> None:
    path = tmp_path / "Pulumi.sec.yaml"
    path.write_text(
        "config:\n  llmplane:cloud: kubernetes\n  llmplane:hfToken:\n    secure: v1:Zm9vYmFy\n"
    )
    _, config, secret_keys = read_stack_file(path)
    assert config["llmplane:hfToken"] == SECRET_PLACEHOLDER
    assert secret_keys == {"llmplane:hfToken"}


@pytest.mark.parametrize(
    ("config", "key", "words"),
    [
        # Unknown keys, at every level.
        (config_with(colour="blue"), "llmplane:colour", "not a known key"),
        (config_with(model={"id": "a/b", "size": 7}), "llmplane:model.size", "not a known key"),
        (config_with(stack="other"), "llmplane:stack", "not a known key"),
        (config_with(**{"kubernetes:namespace": "x"}), "kubernetes:namespace", "not a key"),
        (config_with(**{"oracle:region": "x"}), "oracle:region", "namespace"),
        # Values outside the allowed set.
        (config_with(cloud="oracle"), "llmplane:cloud", "oracle"),
        (config_with(engine="triton"), "llmplane:engine", "triton"),
        (config_with(model={"id": "a/b", "quantize": "int3"}), "llmplane:model.quantize", "int3"),
        (config_with(gpu={"count": 3}), "llmplane:gpu.count", "3"),
        (config_with(model={"id": "not a model id"}), "llmplane:model.id", "wrong format"),
        # Wrong types: strict, so "yes" is no boolean and "2" no number.
        (config_with(replicas={"min": "2"}), "llmplane:replicas.min", "integer"),
        (aws(gpu={"spot": "yes"}), "llmplane:gpu.spot", "boolean"),
        (config_with(model="meta-llama/Llama-3.1-8B"), "llmplane:model", "should be an object"),
        (config_with(replicas={"min": -1}), "llmplane:replicas.min", "greater than"),
        (
            config_with(replicas={"min": 0, "activeHours": {**HOURS, "timezone": "Mars/Base"}}),
            "llmplane:replicas.activeHours.timezone",
            "IANA",
        ),
        (
            config_with(replicas={"min": 0, "activeHours": {**HOURS, "start": "8am"}}),
            "llmplane:replicas.activeHours.start",
            "expected cron expression (5 fields)",
        ),
        (
            config_with(replicas={"max": 2, "activeHours": {**HOURS, "replicas": 3}}),
            "llmplane:replicas.activeHours.replicas",
            "above replicas.max",
        ),
        # Required keys.
        (config_with(model=None), "llmplane:model", "required"),
        (config_with(cloud=None), "llmplane:cloud", "required"),
        (config_with(model={"revision": "main"}), "llmplane:model.id", "required"),
        (config_with(cloud="aws"), "aws:region", "required"),
        (config_with(cloud="gcp", **{"gcp:region": "us-central1"}), "gcp:project", "required"),
        # Impossible combinations.
        (config_with(replicas={"min": 3, "max": 2}), "llmplane:replicas.min", "above"),
        (
            config_with(model={"id": "a/b", "maxInputTokens": 8192, "maxTotalTokens": 4096}),
            "llmplane:model.maxInputTokens",
            "not below",
        ),
        (
            config_with(engine="sglang", model={"id": "a/b", "quantize": "eetq"}),
            "llmplane:model.quantize",
            "not supported by sglang",
        ),
        (config_with(gpu={"spot": True}), "llmplane:gpu.spot", "aws, azure or gcp, not kubernetes"),
        (config_with(gpu={"shape": "g5.xlarge"}), "llmplane:gpu.shape", "here gpu takes: count"),
        (
            config_with(cluster={"privateEndpoint": True}),
            "llmplane:cluster",
            "not kubernetes (the managed cluster's control plane)",
        ),
        (
            config_with(
                cloud="aws", gpu={"nodeSelector": {"a": "b"}}, **{"aws:region": "us-east-1"}
            ),
            "llmplane:gpu.nodeSelector",
            "applies only to llmplane:cloud kubernetes, not aws",
        ),
        (
            config_with(**{"aws:region": "us-east-1"}),
            "aws:region",
            "applies only to llmplane:cloud aws, not kubernetes",
        ),
        (
            config_with(cloud="aws", **{"aws:region": "moon-base-1"}),
            "aws:region",
            "wrong format",
        ),
        (
            config_with(
                cloud="aws", cluster={"privateEndpoint": False}, **{"aws:region": "us-east-1"}
            ),
            "llmplane:cluster.privateEndpoint",
            "authorizedCidrs is empty",
        ),
        (
            config_with(
                cloud="aws",
                cluster={"authorizedCidrs": ["0.0.0.0/0"]},
                **{"aws:region": "us-east-1"},
            ),
            "llmplane:cluster.authorizedCidrs",
            "whole internet",
        ),
        (
            config_with(
                cloud="aws",
                cluster={"authorizedCidrs": ["10.0.0.300/8"]},
                **{"aws:region": "us-east-1"},
            ),
            "llmplane:cluster.authorizedCidrs[0]",
            "not a CIDR",
        ),
        (config_with(tags={"stack": "x"}), "llmplane:tags.stack", "llmplane sets itself"),
        (config_with(tags={"Team": "ML"}), "llmplane:tags.Team", "not valid on every cloud"),
        (config_with(exposure="public"), "llmplane:apiKeys", "needs TLS and API keys"),
        # Network, mirror and admin keys: only where they mean something.
        (
            config_with(network={"natGateways": "perZone"}),
            "llmplane:network",
            "not kubernetes (the managed cluster's network)",
        ),
        (
            aws(network={"privateSubnetIds": ["subnet-0123abcd"]}),
            "llmplane:network.privateSubnetIds",
            "vpcId",
        ),
        (
            aws(network={"vpcId": "vpc-0123abcd", "privateSubnetIds": ["subnet-0123abcd"]}),
            "llmplane:network.privateSubnetIds",
            "at least two",
        ),
        (
            aws(
                network={
                    "vpcId": "vpc-0123abcd",
                    "cidr": "10.1.0.0/16",
                    "privateSubnetIds": ["subnet-0123abcd", "subnet-4567abcd"],
                }
            ),
            "llmplane:network.cidr",
            "existing one",
        ),
        (aws(network={"cidr": "8.8.0.0/16"}), "llmplane:network.cidr", "private IPv4"),
        (aws(network={"cidr": "10.0.0.0/24"}), "llmplane:network.cidr", "/16 to /20"),
        (aws(network={"vpcId": "vpc-XYZ"}), "llmplane:network.vpcId", "wrong format"),
        (
            aws(network={"privateSubnetIds": ["sn-1"]}),
            "llmplane:network.privateSubnetIds[0]",
            "not a subnet id",
        ),
        (
            config_with(
                cloud="gcp",
                network={"vpcId": "vpc-0123abcd"},
                **{"gcp:project": "my-project-1", "gcp:region": "us-central1"},
            ),
            "llmplane:network.vpcId",
            "only to llmplane:cloud aws",
        ),
        (aws(mirrorUsername="octocat"), "llmplane:mirrorToken", "needs both"),
        # AKS and GKE stacks have no NAT or private-endpoint choice to make: refused, not ignored.
        (
            azure(network={"natGateways": "perZone"}),
            "llmplane:network.natGateways",
            "only to llmplane:cloud aws, not azure",
        ),
        (
            azure(network={"subnetId": SUBNET.format(vnet="a", subnet="n")}),
            "llmplane:network.apiServerSubnetId",
            "is missing",
        ),
        (
            azure(
                network={
                    "subnetId": SUBNET.format(vnet="a", subnet="n"),
                    "apiServerSubnetId": SUBNET.format(vnet="b", subnet="api"),
                    "endpointSubnetId": SUBNET.format(vnet="a", subnet="pe"),
                }
            ),
            "llmplane:network.apiServerSubnetId",
            "different VNet",
        ),
        (
            azure(
                network={
                    "subnetId": SUBNET.format(vnet="a", subnet="n"),
                    "apiServerSubnetId": SUBNET.format(vnet="a", subnet="api"),
                    "endpointSubnetId": SUBNET.format(vnet="a", subnet="pe"),
                    "cidr": "10.1.0.0/16",
                }
            ),
            "llmplane:network.cidr",
            "existing one",
        ),
        (
            aws(network={"subnetId": SUBNET.format(vnet="a", subnet="n")}),
            "llmplane:network.subnetId",
            "only to llmplane:cloud azure",
        ),
        (
            azure(network={"subnetId": "/subscriptions/x/subnets/y"}),
            "llmplane:network.subnetId",
            "wrong format",
        ),
        (config_with(mirrorUsername="octocat"), "llmplane:mirrorUsername", "not kubernetes"),
        (
            aws(mirrorUsername="octocat", mirrorToken="ghp_plain"),
            "llmplane:mirrorToken",
            "plain text",
        ),
        (
            aws(cluster={"adminArns": ["arn:aws:iam::12:root"]}),
            "llmplane:cluster.adminArns[0]",
            "not an IAM role",
        ),
        (
            config_with(
                cloud="azure",
                cluster={"adminArns": ["arn:aws:iam::123456789012:role/admin"]},
                **{"azure-native:location": "eastus"},
            ),
            "llmplane:cluster.adminArns",
            "only to llmplane:cloud aws",
        ),
        (config_with(hfToken="hf_plaintext_value"), "llmplane:hfToken", "plain text"),
    ],
)
def test_bad_input_names_stack_key_problem_and_fix(
    config: dict[str, Any], key: str, words: str
) -> None:
    error = _error(config)
    message = str(error)
    assert error.stack == "dev"
    assert error.key == key
    assert message.startswith(f"stack dev: {key}: ")
    assert words in message
    assert "\n" not in message
    assert error.fix, "every error says what would be right"


def test_open_endpoint_is_allowed_only_when_explicit() -> None:
    settings = parse(
        "dev",
        config_with(
            cloud="aws",
            cluster={"authorizedCidrs": ["0.0.0.0/0"], "allowOpenEndpoint": True},
            **{"aws:region": "us-east-1"},
        ),
    )
    assert isinstance(settings, AwsStack)
    assert settings.cluster.allow_open_endpoint is True


def test_plaintext_token_is_never_echoed_in_the_error() -> None:
    message = str(_error(config_with(hfToken="hf_plaintext_value")))
    assert "hf_plaintext_value" not in message


def test_wrongly_typed_secret_is_not_echoed() -> None:
    error = _error(config_with(hfToken=12345), frozenset({"llmplane:hfToken"}))
    assert "12345" not in str(error)


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("config: [1, 2]\n", "config", "not a mapping"),
        ("config:\n  llmplane:cloud: [unclosed\n", "", "not valid YAML"),
        ("- just\n- a list\n", "", "not a YAML mapping"),
        ("config: {}\nresources: {}\n", "resources", "not a stack file key"),
    ],
)
def test_malformed_stack_files(tmp_path: Path, text: str, key: str, words: str) -> None:
    path = tmp_path / "Pulumi.bad.yaml"
    path.write_text(text)
    with pytest.raises(SettingsError) as caught:
        read_stack_file(path)
    assert caught.value.key == (key or str(path))
    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_stack_name_comes_from_the_file_name() -> None:
    assert stack_name(Path("stacks/Pulumi.aws-prod.yaml")) == "aws-prod"


def test_control_characters_in_keys_cannot_reach_the_terminal() -> None:
    message = str(_error(config_with(**{"llmplane:evil\x1b[2J\nkey": 1})))
    assert "\x1b" not in message and "\n" not in message
    assert "\\x1b" in message


# API keys of a public stack. Every bad key below carries the marker "Qx7", so that a message
# quoting any part of a key, however short, is caught.
GATEWAY_SECRETS = frozenset({"llmplane:apiKeys", "llmplane:tlsKey"})
HEX_KEY = "0f" * 32  # the shape of `openssl rand -hex 32`
LONGEST_KEY = ("AZaz09-._~+/Qx7" * 20)[:254] + "=="


def public(api_keys: str) -> dict[str, Any]:
    """A valid public stack whose gateway accepts `api_keys`."""
    return config_with(
        exposure="public",
        apiKeys=api_keys,
        tlsCertificate="-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
        tlsKey="-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
    )


@pytest.mark.parametrize(
    "api_keys",
    [
        HEX_KEY,
        LONGEST_KEY,
        "a" * 32,
        # Keys that differ only in case are different keys: the gateway matches them exactly.
        f"{HEX_KEY.upper()}, {HEX_KEY} ,{LONGEST_KEY}",
        ",".join(f"key{n}-{HEX_KEY}" for n in range(5)),
        # Offline, an encrypted value cannot be read, so it cannot be checked.
        SECRET_PLACEHOLDER,
    ],
)
def test_good_api_keys_are_accepted(api_keys: str) -> None:
    assert len(LONGEST_KEY) == 256
    settings = parse("dev", public(api_keys), GATEWAY_SECRETS)
    assert settings.api_keys is not None


@pytest.mark.parametrize(
    ("api_keys", "words"),
    [
        ("Qx7" + "a" * 28, "entry 1 of 1 is shorter than 32 characters"),
        (LONGEST_KEY + "a", "entry 1 of 1 is longer than 256 characters"),
        (f"{HEX_KEY},Qx7" + "b" * 300, "entry 2 of 2 is longer than 256"),
        (f'Qx7{"a" * 30}"', "token68"),  # a quote ended the nginx string: nginx did not start
        ("Qx7 " + "a" * 30, "token68"),
        ("Qx7\n" + "a" * 30, "token68"),
        ("Qx7\x1b[2J" + "a" * 30, "token68"),
        ("Qx7é" + "a" * 30, "token68"),
        ("Qx7;" + "a" * 30, "token68"),
        ("Qx7" + "a" * 30 + "=b", "token68"),  # '=' only as padding at the end
        ("=Qx7" + "a" * 30, "token68"),
        (f"Qx7{'a' * 30},Qx7{'a' * 30}", "entry 2 of 2 repeats an earlier key"),
        (f"{HEX_KEY},,Qx7{'a' * 30}", "entry 2 of 3 is empty"),
        (f"Qx7{'a' * 30},", "entry 2 of 2 is empty"),
        (" , ", "entry 1 of 2 is empty"),
        ("   ", "entry 1 of 1 is empty"),
    ],
)
def test_bad_api_keys_are_refused_without_quoting_them(api_keys: str, words: str) -> None:
    error = _error(public(api_keys), GATEWAY_SECRETS)
    assert error.key == "llmplane:apiKeys"
    assert words in str(error)
    assert "openssl rand -hex 32" in error.fix
    for text in (str(error), repr(error), error.problem, error.fix):
        assert "Qx7" not in text and HEX_KEY[:8] not in text
    assert "\n" not in str(error)


@pytest.mark.parametrize("key", ["apiKeys", "tlsKey", "hfToken", "mirrorToken"])
def test_wrongly_typed_gateway_secret_is_not_echoed(key: str) -> None:
    config = {**public(HEX_KEY), f"llmplane:{key}": ["Qx7" + "a" * 40]}
    assert "Qx7" not in str(_error(config, GATEWAY_SECRETS))


@pytest.mark.parametrize(
    ("config", "model"),
    [
        (BASE_CONFIG, "ExistingClusterStack"),
        (aws(), "AwsStack"),
        (azure(), "AzureStack"),
        (config_with(cloud="GCP", **{"gcp:project": "my-project-1", "gcp:region": "us-east1"}),
         "GcpStack"),
    ],
)  # fmt: skip
def test_each_cloud_is_read_by_its_own_model(config: dict[str, Any], model: str) -> None:
    settings = parse("dev", config)
    assert type(settings).__name__ == model
    # The model has exactly the sections its target reads: no network on an existing cluster.
    assert hasattr(settings, "network") is (model != "ExistingClusterStack")


def test_the_cli_default_of_an_absent_section_is_no_section() -> None:
    # Pulumi.yaml declares `llmplane:network: {}`, which the CLI hands to every stack.
    settings = parse("dev", {**BASE_CONFIG, "llmplane:network": "{}", "llmplane:cluster": {}})
    assert settings.cloud == "kubernetes"
    error = _error({**BASE_CONFIG, "llmplane:network": {"cidr": "10.0.0.0/16"}})
    assert error.key == "llmplane:network" and "aws, azure or gcp" in error.problem
