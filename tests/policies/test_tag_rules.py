"""The required-tags policy: every taggable cloud resource carries project, stack and managed-by."""

from __future__ import annotations

from functools import partial

import pytest

from llmplane.components.naming import REQUIRED_TAGS
from llmplane.policies.rules import tags
from tests.plans import shipped
from tests.policies.harness import (
    UNKNOWN,
    Cases,
    RuleCases,
    check,
    drop,
    findings,
    put,
    rules_of,
    shipped_props,
)

TAG_RULES = rules_of("tags")
SHIPPED = ["aws-dev", "aws-prod", "azure-dev", "gcp-dev", "kubernetes-dev"]
EKS = "aws:eks/cluster:Cluster"
VAULT = "azure-native:keyvault:Vault"
GKE = "gcp:container/cluster:Cluster"
CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
POLICY = "required-tags"
aws_cluster = partial(shipped_props, "aws-dev")(EKS)
vault = partial(shipped_props, "azure-dev")(VAULT)
gke = partial(shipped_props, "gcp-dev")(GKE)
crypto_key = partial(shipped_props, "gcp-dev")(CRYPTO_KEY)

# fmt: off
COMPLIANT = [
    (POLICY, EKS, aws_cluster),
    (POLICY, VAULT, vault),
    (POLICY, GKE, gke),
    (POLICY, CRYPTO_KEY, crypto_key),
]
VIOLATIONS = [
    (POLICY, EKS, aws_cluster, drop("tags.stack"), "tags lacks stack"),
    (POLICY, VAULT, vault, drop("tags.managed-by"), "tags lacks managed-by"),
    (POLICY, GKE, gke, drop("resourceLabels.project"), "resourceLabels lacks project"),
    (POLICY, CRYPTO_KEY, crypto_key, put("labels", {"team": "ml"}),
     "labels lacks project, stack, managed-by"),
]
MISSING = [
    (POLICY, EKS, aws_cluster, "tags", "tags is not set: the resource carries none of project"),
    (POLICY, VAULT, vault, "tags", "tags is not set"),
    (POLICY, GKE, gke, "resourceLabels", "resourceLabels is not set"),
    (POLICY, CRYPTO_KEY, crypto_key, "labels", "labels is not set"),
]
CONFIGURED = [
    (POLICY, EKS, aws_cluster, put("tags.cost-center", "gpu"),
     {"requiredTags": ["project", "cost-center", "owner"]}, "tags lacks owner"),
    (POLICY, GKE, gke, drop("resourceLabels"), {"requiredTags": []}, None),
]
ALSO_COMPLIANT = [
    # The user's own tags beside llmplane's, and a value known only at deployment.
    (POLICY, EKS, aws_cluster, put("tags.cost-center", "gpu")),
    (POLICY, VAULT, vault, put("tags.stack", UNKNOWN)),
]
# fmt: on


class TestTagCases(RuleCases):
    """The shared checks over the tables above."""

    cases = Cases(TAG_RULES, COMPLIANT, VIOLATIONS, MISSING, CONFIGURED, ALSO_COMPLIANT)


def test_the_default_tags_are_those_the_components_set() -> None:
    (rule,) = TAG_RULES
    assert rule.defaults()["requiredTags"] == list(REQUIRED_TAGS) == list(tags.REQUIRED_TAGS)


def test_the_policy_covers_every_type_the_shipped_stacks_tag() -> None:
    tagged = {
        r["type"]
        for stack in SHIPPED
        for r in shipped(stack)["resources"]
        if any(
            isinstance(r["inputs"].get(key), dict) and set(REQUIRED_TAGS) <= set(r["inputs"][key])
            for key in ("tags", "labels", "resourceLabels")
        )
    }
    assert tagged == set(tags.TAGS_AT)


@pytest.mark.parametrize("stack", SHIPPED)
def test_every_shipped_stack_complies_so_the_policy_is_mandatory(stack: str) -> None:
    (rule,) = TAG_RULES
    assert findings(shipped(stack), TAG_RULES) == []
    assert rule.enforcement == "mandatory"


def test_a_whole_tag_map_unknown_in_a_preview_leaves_the_policy_not_evaluated() -> None:
    from pulumi_policy.proxy import UnknownValueError

    props = aws_cluster()
    props["tags"] = UNKNOWN
    with pytest.raises(UnknownValueError):
        check(POLICY, EKS, props)
