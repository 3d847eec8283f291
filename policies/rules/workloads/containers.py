"""Container rules: resources, probes, image references, and the credentials a pod carries."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import (
    DAEMON_SET,
    DEPLOYMENT,
    POD,
    POD_SPEC_PATHS,
    REPLICA_SET,
    SECRET,
    STATEFUL_SET,
    WORKLOADS,
    Config,
    Props,
    Rule,
    containers,
    dig,
    items,
    pod_spec,
    resource_rule,
    value_rule,
)
from .messages import OURS, container_label

# Workloads that serve until stopped: the ones probes make sense for (a Job runs to completion).
LONG_RUNNING = (DEPLOYMENT, DAEMON_SET, STATEFUL_SET, REPLICA_SET, POD)


@resource_rule(
    "k8s-resources-set",
    types=WORKLOADS,
    description="Every container has CPU and memory limits, and so requests.",
    severity="medium",
    frameworks=["CKV_K8S_10", "CKV_K8S_11", "CKV_K8S_12", "CKV_K8S_13"],
    remediation=f"{OURS}; set `resources.requests` and `resources.limits` for cpu and memory "
    "on each container.",
)
def resources_set(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Unbounded containers starve their neighbours and get evicted first."""
    for container in containers(pod_spec(type_, props)):
        missing = []
        for resource in ("cpu", "memory"):
            has_limit = dig(container, f"resources.limits.{resource}") is not None
            has_request = dig(container, f"resources.requests.{resource}") is not None
            # An absent request defaults to the limit, so only a missing limit leaves both open.
            if not has_request and not has_limit:
                missing.append(f"resources.requests.{resource}")
            if not has_limit:
                missing.append(f"resources.limits.{resource}")
        if missing:
            yield f"{container_label(container)} has no {', '.join(missing)}"


@resource_rule(
    "k8s-probes-set",
    types=LONG_RUNNING,
    description="Every long-running container has a liveness and a readiness probe.",
    severity="medium",
    frameworks=["CKV_K8S_8", "CKV_K8S_9"],
    remediation=f"{OURS}; add `livenessProbe` and `readinessProbe` (and a `startupProbe` for "
    "anything that loads a model) to each container.",
)
def probes_set(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Without probes, traffic reaches pods that cannot answer and hung pods never restart."""
    spec = pod_spec(type_, props)
    # Init containers run to completion and take no probes.
    for container in items(dig(spec, "containers")):
        for probe in ("livenessProbe", "readinessProbe"):
            if dig(container, probe) is None:
                yield f"{container_label(container)} has no {probe}"


def _reference(image: str) -> tuple[str | None, str | None]:
    """An image reference's tag and digest; a registry port (host:5000/x) is not a tag."""
    name, _, digest = image.partition("@")
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    return tag or None, digest or None


@resource_rule(
    "k8s-image-pinned",
    types=WORKLOADS,
    description="Every container image names a tag other than latest, or a digest.",
    severity="medium",
    frameworks=["CKV_K8S_14"],
    remediation=f"{OURS} (engine images are pinned per engine); reference your own images as "
    "`name:version` or `name@sha256:…`.",
)
def image_pinned(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A moving tag deploys different code on every node that pulls it."""
    for container in containers(pod_spec(type_, props)):
        image = dig(container, "image")
        # Absent: a template left for something else to fill in; nothing to judge.
        if image is None:
            continue
        tag, digest = _reference(str(image))
        if digest:
            continue
        if tag is None:
            yield (
                f'{container_label(container)} image "{image}" has no tag or digest (pulls latest)'
            )
        elif tag == "latest":
            yield f'{container_label(container)} image "{image}" uses the latest tag'


@resource_rule(
    "k8s-image-digest",
    types=WORKLOADS,
    description="Every container image is pinned by digest; advisory because llmplane's images "
    "are pinned by version tags, which the registry cache and upgrades rely on.",
    severity="low",
    frameworks=["CKV_K8S_43"],
    remediation="Reference images as `name@sha256:…` (or `name:tag@sha256:…`) where a tag could "
    "be re-pushed.",
    enforcement="advisory",
)
def image_digest(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Only a digest guarantees the bytes that run are the bytes that were reviewed."""
    for container in containers(pod_spec(type_, props)):
        image = dig(container, "image")
        if image is not None and _reference(str(image))[1] is None:
            yield f'{container_label(container)} image "{image}" is not pinned by digest'


# A token mounted by default lets any code in the pod call the API server. Absent means true
# (unless the ServiceAccount says otherwise, which the pod cannot show).
no_service_account_token = value_rule(
    "k8s-no-service-account-token",
    types=WORKLOADS,
    under=POD_SPEC_PATHS,
    path="automountServiceAccountToken",
    forbidden=True,
    missing="fail",
    message="automountServiceAccountToken is {shown}: the pod gets an API token",
    description="A pod spec sets automountServiceAccountToken to false; a pod that talks to the "
    "API mounts a short-lived projected token itself.",
    severity="medium",
    frameworks=["CKV_K8S_38"],
    remediation=f"{OURS} (the cluster autoscaler mounts a projected, expiring token); set "
    "`automountServiceAccountToken: false` in your own pod specs.",
)


# Values that are credentials whatever the variable is called: Hugging Face, GitHub, GitLab,
# OpenAI-style, Slack and AWS keys, and PEM private keys.
_CREDENTIAL = re.compile(
    r"^(hf_\w{20,}|gh[pousr]_\w{20,}|github_pat_\w{20,}|glpat-[\w-]{20,}|sk-[\w-]{20,}"
    r"|xox[abprs]-[\w-]{10,}|AKIA[0-9A-Z]{16})$|-----BEGIN [A-Z ]*PRIVATE KEY-----"
)


@resource_rule(
    "k8s-no-literal-secrets-in-env",
    types=WORKLOADS,
    description="No container carries a credential as a literal env value; secrets come from a "
    "mounted Secret or valueFrom.secretKeyRef.",
    severity="high",
    frameworks=["kube-linter env-var-secret"],
    remediation="Store the value in a Secret and mount it as a file (llmplane mounts "
    "`llmplane:hfToken` at HF_TOKEN_PATH) or use `env[].valueFrom.secretKeyRef`.",
    config={
        "secretNamePattern": {
            "type": "string",
            "default": r"(^|[_-])(TOKEN|SECRET|PASSWORD|PASSWD|PASSPHRASE|APIKEY|KEY|CREDENTIALS?)"
            r"([_-]|$)",
            "description": "A regular expression (case-insensitive) for env names that hold "
            "credentials; their literal values are refused unless they are file paths.",
        }
    },
)
def no_literal_secrets(type_: str, props: Props, config: Config) -> Iterator[str]:
    """A literal env value is readable by anyone who can read the workload object."""
    secret_name = re.compile(str(config["secretNamePattern"]), re.IGNORECASE)
    for container in containers(pod_spec(type_, props)):
        for var in items(dig(container, "env")):
            value = dig(var, "value")
            if value is None or value == "":
                continue
            name = str(dig(var, "name", "?"))
            text = str(value)
            # A Pulumi secret placed in a literal still lands in the object in plain text.
            credential = text == SECRET or _CREDENTIAL.search(text) is not None
            # A path (HF_TOKEN_PATH=/data/token) names where a secret is, not the secret.
            named = secret_name.search(name) is not None and not text.startswith("/")
            if credential or named:
                yield (
                    f"{container_label(container)} sets {name} from a literal value, "
                    "not a secretKeyRef"
                )


RULES: tuple[Rule, ...] = (
    resources_set,
    probes_set,
    image_pinned,
    image_digest,
    no_service_account_token,
    no_literal_secrets,
)
