"""The weights buckets of each cloud, built alone under the plan mocks from plain ids.

Each is given only what a user's own program would have: a key id, a workload's role, account
or principal. The tests read what was registered: encryption with that key, no public path,
and read grants that name only the workload and only the weights.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pytest

from llmplane.components.aws.weights import S3WeightsBucket, S3WeightsBucketArgs
from llmplane.components.azure.weights import (
    BLOB_ZONE,
    STORAGE_BLOB_DATA_READER,
    BlobWeightsContainer,
    BlobWeightsContainerArgs,
    key_vault_parts,
)
from llmplane.components.gcp.weights import OBJECT_VIEWER, GcsWeightsBucket, GcsWeightsBucketArgs
from llmplane.infra.offline.mocks_gcp import PROJECT_NUMBER
from llmplane.infra.offline.synth import stack_violations
from tests.components.direct import capture
from tests.plans import Plan, of_type, one

AWS_KEY = "arn:aws:kms:us-east-1:111122223333:key/0a1b2c3d-0000-4000-8000-000000000001"
ENGINE_ROLE = "arn:aws:iam::111122223333:role/llm-engine-irsa-1234567"
PREFIX = "Qwen/Qwen2.5-7B-Instruct"
GCP_KEY = "projects/their-project/locations/us-central1/keyRings/llm/cryptoKeys/cmk"
GSA = "llm-engine@their-project.iam.gserviceaccount.com"
SUB = "00000000-0000-0000-0000-00000000beef"
VAULT = f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.KeyVault/vaults/llmvault"
KEY_URI = "https://llmvault.vault.azure.net/keys/cmk"
SUBNET = (
    f"/subscriptions/{SUB}/resourceGroups/rg/providers/Microsoft.Network/virtualNetworks/vnet"
    "/subnets/endpoints"
)
PRINCIPAL = "00000000-0000-0000-0000-0000000000aa"
# What the program tags every resource with; the policy pack requires them.
TAGS = {"project": "llmplane", "stack": "direct", "managed-by": "pulumi"}


def _mandatory(plan: Plan) -> list[dict[str, Any]]:
    findings = stack_violations(plan["resources"], {})
    return [f for f in findings if f["enforcement"] == "mandatory"]


def _document(resource: dict[str, Any]) -> dict[str, Any]:
    return json.loads(resource["inputs"]["policy"])


# --- AWS ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def s3() -> Plan:
    def build() -> None:
        bucket = S3WeightsBucket(
            "llm",
            S3WeightsBucketArgs(
                key_arn=AWS_KEY,
                region="us-east-1",
                reader_role_arns={"engine": ENGINE_ROLE},
                prefix=PREFIX,
                tags=TAGS,
            ),
        )
        pulumi.export("uri", bucket.uri)

    return capture(build)


def test_s3_encrypts_with_the_stack_key_only(s3: Plan) -> None:
    (rule,) = one(s3, "aws:s3/bucketServerSideEncryptionConfiguration:"
                      "BucketServerSideEncryptionConfiguration")["inputs"]["rules"]  # fmt: skip
    assert rule["applyServerSideEncryptionByDefault"] == {
        "sseAlgorithm": "aws:kms",
        "kmsMasterKeyId": AWS_KEY,
    }
    assert rule["bucketKeyEnabled"] is True
    assert rule["blockedEncryptionTypes"] == ["SSE-C"]


def test_s3_is_private_owner_enforced_versioned_and_tls_only(s3: Plan) -> None:
    block = one(s3, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["inputs"]
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert block[flag] is True
    ownership = one(s3, "aws:s3/bucketOwnershipControls:BucketOwnershipControls")["inputs"]
    assert ownership["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    versioning = one(s3, "aws:s3/bucketVersioning:BucketVersioning")["inputs"]
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    assert one(s3, "aws:s3/bucket:Bucket")["inputs"]["forceDestroy"] is False
    policy = one(s3, "aws:s3/bucketPolicy:BucketPolicy")
    (statement,) = _document(policy)["Statement"]
    assert statement["Effect"] == "Deny" and statement["Action"] == "s3:*"
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    block_urn = one(s3, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")["urn"]
    assert block_urn in policy["dependencies"]


def test_s3_readers_get_read_list_and_decrypt_on_the_weights_only(s3: Plan) -> None:
    grant = one(s3, "aws:iam/rolePolicy:RolePolicy")
    assert grant["inputs"]["role"] == "llm-engine-irsa-1234567"
    statements = {s["Sid"]: s for s in _document(grant)["Statement"]}
    assert {s: statements[s]["Action"] for s in statements} == {
        "ListWeights": ["s3:ListBucket"],
        "ReadWeights": ["s3:GetObject"],
        "DecryptWeights": "kms:Decrypt",
    }
    assert all(s["Effect"] == "Allow" and s["Resource"] != "*" for s in statements.values())
    assert statements["ReadWeights"]["Resource"].endswith(f"/{PREFIX}/*")
    assert statements["ListWeights"]["Condition"] == {
        "StringLike": {"s3:prefix": [PREFIX, f"{PREFIX}/*"]}
    }
    assert statements["DecryptWeights"]["Resource"] == AWS_KEY
    assert statements["DecryptWeights"]["Condition"] == {
        "StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    }
    assert s3["outputs"]["uri"].startswith("s3://llm-weights")
    assert s3["outputs"]["uri"].endswith(f"/{PREFIX}")
    assert _mandatory(s3) == []


def test_s3_args_refuse_what_s3_would() -> None:
    with pytest.raises(ValueError, match="no dots"):
        S3WeightsBucketArgs(key_arn=AWS_KEY, region="us-east-1", bucket_name="my.weights")
    with pytest.raises(ValueError, match="folder path"):
        S3WeightsBucketArgs(key_arn=AWS_KEY, region="us-east-1", prefix="/Qwen/")
    with pytest.raises(ValueError, match="region is empty"):
        S3WeightsBucketArgs(key_arn=AWS_KEY, region="")


# --- GCP ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def gcs() -> Plan:
    def build() -> None:
        bucket = GcsWeightsBucket(
            "llm",
            GcsWeightsBucketArgs(
                project="their-project",
                region="us-central1",
                key_id=GCP_KEY,
                reader_emails={"engine": GSA},
                bucket_name="their-llm-weights",
                labels=TAGS,
            ),
        )
        pulumi.export("uri", bucket.uri)

    return capture(build)


def test_gcs_uses_the_stack_key_after_granting_its_storage_agent(gcs: Plan) -> None:
    grant = one(gcs, "gcp:kms/cryptoKeyIAMMember:CryptoKeyIAMMember")
    assert grant["inputs"] == {
        "cryptoKeyId": GCP_KEY,
        "role": "roles/cloudkms.cryptoKeyEncrypterDecrypter",
        # The number came from the (mocked) project lookup.
        "member": f"serviceAccount:service-{PROJECT_NUMBER}@gs-project-accounts.iam."
        "gserviceaccount.com",
    }
    bucket = one(gcs, "gcp:storage/bucket:Bucket")
    assert bucket["inputs"]["encryption"] == {"defaultKmsKeyName": GCP_KEY}
    assert grant["urn"] in bucket["dependencies"]


def test_gcs_is_uniform_private_and_versioned_and_readers_only_view(gcs: Plan) -> None:
    bucket = one(gcs, "gcp:storage/bucket:Bucket")["inputs"]
    assert bucket["uniformBucketLevelAccess"] is True
    assert bucket["publicAccessPrevention"] == "enforced"
    assert bucket["versioning"] == {"enabled": True}
    assert bucket["location"] == "US-CENTRAL1"
    (member,) = of_type(gcs, "gcp:storage/bucketIAMMember:BucketIAMMember")
    assert member["inputs"] == {
        "bucket": "their-llm-weights",
        "role": OBJECT_VIEWER,
        "member": f"serviceAccount:{GSA}",
    }
    assert gcs["outputs"]["uri"] == "gs://their-llm-weights"
    assert _mandatory(gcs) == []


def test_gcs_args_refuse_what_cloud_storage_would() -> None:
    with pytest.raises(ValueError, match="bucket_name"):
        GcsWeightsBucketArgs(project="p", region="r", key_id=GCP_KEY, bucket_name="Weights")
    with pytest.raises(ValueError, match="project is empty"):
        GcsWeightsBucketArgs(project="", region="r", key_id=GCP_KEY)


# --- Azure -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def blob() -> Plan:
    def build() -> None:
        container = BlobWeightsContainer(
            "llm",
            BlobWeightsContainerArgs(
                account_name="llmweights01",
                resource_group_name="rg",
                vault_id=VAULT,
                key_uri=KEY_URI,
                endpoint_subnet_id=SUBNET,
                reader_principal_ids={"engine": PRINCIPAL},
                subscription_id=SUB,
                tags=TAGS,
            ),
        )
        pulumi.export("uri", container.uri)
        pulumi.export("account", container.account_name)

    return capture(build)


def test_blob_account_is_cmk_encrypted_by_its_own_identity(blob: Plan) -> None:
    account = one(blob, "azure-native:storage:StorageAccount")
    encryption = account["inputs"]["encryption"]
    assert encryption["keySource"] == "Microsoft.Keyvault"
    assert encryption["keyVaultProperties"] == {
        "keyVaultUri": "https://llmvault.vault.azure.net",
        "keyName": "cmk",
    }
    assert encryption["requireInfrastructureEncryption"] is True
    identity = one(blob, "azure-native:managedidentity:UserAssignedIdentity")
    assert account["inputs"]["identity"]["type"] == "UserAssigned"
    grant = one(blob, "azure-native:authorization:RoleAssignment", "llm-weights-key")
    assert grant["inputs"]["scope"] == VAULT
    assert grant["inputs"]["roleDefinitionId"].endswith("e147488a-f6f5-4113-8e2d-b22465e65bf6")
    assert {identity["urn"], grant["urn"]} <= set(account["dependencies"])


def test_blob_account_has_no_public_or_key_access(blob: Plan) -> None:
    account = one(blob, "azure-native:storage:StorageAccount")["inputs"]
    assert account["allowBlobPublicAccess"] is False
    assert account["allowSharedKeyAccess"] is False
    assert account["defaultToOAuthAuthentication"] is True
    assert account["minimumTlsVersion"] == "TLS1_2"
    assert account["enableHttpsTrafficOnly"] is True
    assert account["publicNetworkAccess"] == "Disabled"
    assert account["networkRuleSet"]["defaultAction"] == "Deny"
    container = one(blob, "azure-native:storage:BlobContainer")["inputs"]
    assert container["publicAccess"] == "None"
    service = one(blob, "azure-native:storage:BlobServiceProperties")["inputs"]
    assert service["isVersioningEnabled"] is True
    endpoint = one(blob, "azure-native:network:PrivateEndpoint")["inputs"]
    (connection,) = endpoint["privateLinkServiceConnections"]
    assert connection["groupIds"] == ["blob"]
    assert endpoint["subnet"]["id"] == SUBNET
    zone = one(blob, "azure-native:privatedns:PrivateZone")["inputs"]
    assert zone["privateZoneName"] == BLOB_ZONE


def test_blob_readers_get_data_reader_on_the_container_alone(blob: Plan) -> None:
    reader = one(blob, "azure-native:authorization:RoleAssignment", "llm-weights-engine")
    container = one(blob, "azure-native:storage:BlobContainer")
    assert reader["inputs"]["principalId"] == PRINCIPAL
    assert reader["inputs"]["roleDefinitionId"] == (
        f"/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{STORAGE_BLOB_DATA_READER}"
    )
    # Scoped to the container's id (the mock's id for it), not the account or the group.
    assert reader["inputs"]["scope"].endswith("/llm-weights")
    assert "BlobContainer" in reader["inputs"]["scope"]
    assert container["urn"] in reader["dependencies"]
    assert blob["outputs"] == {"uri": "az://weights", "account": "llmweights01"}
    assert _mandatory(blob) == []


def test_blob_args_and_key_uris_are_checked() -> None:
    assert key_vault_parts("https://v.vault.azure.net/keys/cmk/0123abcd") == (
        "https://v.vault.azure.net",
        "cmk",
    )
    with pytest.raises(ValueError, match="key_uri"):
        key_vault_parts("https://v.vault.azure.net/secrets/cmk")
    common: dict[str, Any] = {
        "resource_group_name": "rg",
        "vault_id": VAULT,
        "key_uri": KEY_URI,
        "endpoint_subnet_id": SUBNET,
    }
    with pytest.raises(ValueError, match="account_name"):
        BlobWeightsContainerArgs(account_name="LLM-weights", **common)
    with pytest.raises(ValueError, match="container_name"):
        BlobWeightsContainerArgs(account_name="llmweights", container_name="a--b", **common)
