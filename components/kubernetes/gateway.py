"""The public gateway: TLS and API keys in front of the engine, the only public way in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.apps.v1 import DeploymentSpecArgs
from pulumi_kubernetes.core.v1 import (
    ConfigMapVolumeSourceArgs,
    ContainerArgs,
    ContainerPortArgs,
    EmptyDirVolumeSourceArgs,
    HTTPGetActionArgs,
    PodSpecArgs,
    PodTemplateSpecArgs,
    ProbeArgs,
    ResourceRequirementsArgs,
    SecretVolumeSourceArgs,
    ServicePortArgs,
    ServiceSpecArgs,
    VolumeArgs,
    VolumeMountArgs,
)
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)
from pulumi_kubernetes.policy.v1 import PodDisruptionBudgetSpecArgs

from .addons import INTERCEPTOR_LABELS
from .pod import INSTANCE_LABEL, NAME_LABEL, restricted_container, restricted_pod

if TYPE_CHECKING:
    from .activator import HeldRoute
    from .service_spec import GatewayArgs, ServiceSpec
    from .traffic import Meta

__all__ = [
    "CONFIG_DIR",
    "CONFIG_FILE",
    "IMAGE",
    "KEYS_DIR",
    "KEYS_FILE",
    "MAX_API_KEY_LENGTH",
    "MIN_API_KEY_LENGTH",
    "NAME",
    "PORT",
    "READ_TIMEOUT_SECONDS",
    "TLS_DIR",
    "UID",
    "api_keys_problem",
    "build_gateway",
    "gateway_labels",
    "keys_map",
    "nginx_config",
    "split_api_keys",
]

# nginx 1.28 (stable) in NGINX's unprivileged image: no root, listens above 1024.
IMAGE = "nginxinc/nginx-unprivileged:1.28.0-alpine"
PORT = 8443
UID = 10101
NAME = "gateway"
# Streams of generated tokens can run for minutes; the gateway must not cut them.
READ_TIMEOUT_SECONDS = 600
# Where the pod mounts its config, keys and certificate; nginx_config names the same paths.
CONFIG_DIR = "/etc/nginx/conf.d"
KEYS_DIR = "/etc/nginx/keys"
TLS_DIR = "/etc/nginx/tls"
CONFIG_FILE = "default.conf"
KEYS_FILE = "keys.map"
# Long random keys only: a short key can be guessed through a public endpoint.
MIN_API_KEY_LENGTH = 32
# Room for any generator (128 random bytes are 172 characters of base64), far below nginx's
# 8 KiB limit on one request header line (large_client_header_buffers).
MAX_API_KEY_LENGTH = 256
# RFC 6750's token68: the characters a Bearer token may hold.
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")
# A DNS name (RFC 1123 labels): all the Host header may be, and nothing nginx reads as syntax.
_DNS_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_LITERAL = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def gateway_labels(engine_labels: Mapping[str, str]) -> dict[str, str]:
    """The engine's labels, renamed so that neither selector matches the other's pods."""
    labels = {**engine_labels, NAME_LABEL: NAME}
    instance = engine_labels.get(INSTANCE_LABEL)
    if instance is not None:
        # Each service's gateway gets an instance of its own, so two gateways in one namespace
        # never select each other's pods either.
        labels[INSTANCE_LABEL] = f"{instance.removesuffix('-inference')}-{NAME}"
    return labels


def split_api_keys(api_keys: str) -> list[str]:
    """The comma-separated keys, stripped; empty entries are kept so that they can be refused."""
    return [key.strip() for key in api_keys.split(",")]


def api_keys_problem(api_keys: str) -> str | None:
    """What is wrong with comma-separated API keys, without quoting any; None if nothing is."""
    keys = split_api_keys(api_keys)
    seen: set[str] = set()
    for number, key in enumerate(keys, start=1):
        # A position, never the key: an error message ends up in CI logs.
        entry = f"entry {number} of {len(keys)}"
        if not key:
            return f"{entry} is empty"
        if len(key) < MIN_API_KEY_LENGTH:
            return f"{entry} is shorter than {MIN_API_KEY_LENGTH} characters"
        if len(key) > MAX_API_KEY_LENGTH:
            return f"{entry} is longer than {MAX_API_KEY_LENGTH} characters"
        if not _TOKEN68.fullmatch(key):
            return f"{entry} holds a character a Bearer token cannot (RFC 6750 token68)"
        if key in seen:
            return f"{entry} repeats an earlier key"
        seen.add(key)
    return None


def _exact(key: str) -> str:
    """A PCRE pattern that matches exactly `key`, and nothing else, byte for byte."""
    # Letters and digits as they are; every other byte as `\xHH`, which neither nginx's quoted
    # strings nor PCRE read as anything but that byte: no quote, `$`, `.` or `+` stays special.
    return "".join(chr(b) if b in _LITERAL else f"\\x{b:02x}" for b in key.encode())


def keys_map(api_keys: str) -> str:
    """nginx `map` entries: an Authorization header with exactly one of the keys maps to 1."""
    keys = sorted({key for key in split_api_keys(api_keys) if key})
    # Plain map keys are matched case-insensitively and hashed into buckets too small for long
    # keys; a regular expression is matched exactly, case included, with no hash to size. Only
    # the scheme is case-insensitive, as RFC 7235 makes it. Any text is written safely, even the
    # offline engine's placeholder for a secret it cannot read; the stack check refuses keys
    # outside api_keys_problem's rules before they get here.
    return "".join(f'"~^(?i:bearer) +{_exact(key)}$" 1;\n' for key in keys)


def nginx_config(
    upstream: str, host: str | None = None, read_timeout_seconds: int = READ_TIMEOUT_SECONDS
) -> str:
    """TLS, a health path, and every other path only with a known Bearer key.

    With `host`, nginx sends that Host header instead of the upstream's: KEDA's interceptor routes
    by it. `read_timeout_seconds` covers a request held while the engine scales up from zero.
    """
    if host is not None and not _DNS_NAME.fullmatch(host):
        raise ValueError(f"gateway Host header {host!r} is not a DNS name")
    # The interceptor's Service is shared by every service it holds requests for.
    routed = f"\n        proxy_set_header Host {host};" if host is not None else ""
    return f"""map $http_authorization $llmplane_authorized {{
    default 0;
    include {KEYS_DIR}/{KEYS_FILE};
}}
server {{
    listen {PORT} ssl;
    http2 on;
    ssl_certificate {TLS_DIR}/tls.crt;
    ssl_certificate_key {TLS_DIR}/tls.key;
    ssl_protocols TLSv1.2 TLSv1.3;
    client_max_body_size 10m;
    server_tokens off;
    location = /healthz {{
        access_log off;
        return 200 "ok\\n";
    }}
    location / {{
        if ($llmplane_authorized = 0) {{
            return 401;
        }}
        proxy_pass {upstream};
        proxy_http_version 1.1;
        # The engine never sees the callers' keys.
        proxy_set_header Authorization "";{routed}
        proxy_buffering off;
        proxy_read_timeout {read_timeout_seconds}s;
    }}
}}
"""


def _pod(base: str) -> PodSpecArgs:
    """The nginx pod, mounting the config and Secrets named from the gateway's `base`."""
    health = HTTPGetActionArgs(path="/healthz", port="https", scheme="HTTPS")
    writable = ("/tmp", "/var/cache/nginx")
    return PodSpecArgs(
        automount_service_account_token=False,
        enable_service_links=False,
        security_context=restricted_pod(UID),
        containers=[
            ContainerArgs(
                name=NAME,
                image=IMAGE,
                image_pull_policy="Always",
                ports=[ContainerPortArgs(name="https", container_port=PORT)],
                security_context=restricted_container(UID),
                resources=ResourceRequirementsArgs(
                    requests={"cpu": "100m", "memory": "128Mi"},
                    limits={"cpu": "500m", "memory": "256Mi"},
                ),
                liveness_probe=ProbeArgs(http_get=health, period_seconds=20),
                readiness_probe=ProbeArgs(http_get=health, period_seconds=10),
                volume_mounts=[
                    VolumeMountArgs(name="config", mount_path=CONFIG_DIR, read_only=True),
                    VolumeMountArgs(name="keys", mount_path=KEYS_DIR, read_only=True),
                    VolumeMountArgs(name="tls", mount_path=TLS_DIR, read_only=True),
                    *(VolumeMountArgs(name=f"w{i}", mount_path=p) for i, p in enumerate(writable)),
                ],
            )
        ],
        volumes=[
            VolumeArgs(name="config", config_map=ConfigMapVolumeSourceArgs(name=f"{base}-config")),
            VolumeArgs(name="keys", secret=SecretVolumeSourceArgs(secret_name=f"{base}-keys")),
            VolumeArgs(name="tls", secret=SecretVolumeSourceArgs(secret_name=f"{base}-tls")),
            *(VolumeArgs(name=f"w{i}", empty_dir=EmptyDirVolumeSourceArgs()) for i in range(2)),
        ],
    )


def _config(upstream: pulumi.Input[str], held: HeldRoute | None) -> pulumi.Output[str]:
    """The nginx config: straight to the engine, or through the interceptor with its Host."""
    if held is None:
        return pulumi.Output.from_input(upstream).apply(nginx_config)
    return pulumi.Output.all(held.upstream, held.host).apply(
        lambda parts: nginx_config(parts[0], parts[1], held.read_timeout_seconds)
    )


def _upstream_egress(
    engine_labels: pulumi.Input[Mapping[str, str]], held: HeldRoute | None
) -> NetworkPolicyEgressRuleArgs:
    """Where nginx may connect: the engine's pods, or only the interceptor's when it holds."""
    if held is None:
        return NetworkPolicyEgressRuleArgs(
            to=[NetworkPolicyPeerArgs(pod_selector=LabelSelectorArgs(match_labels=engine_labels))],
            ports=[NetworkPolicyPortArgs(port="http", protocol="TCP")],
        )
    return NetworkPolicyEgressRuleArgs(
        to=[
            NetworkPolicyPeerArgs(
                namespace_selector=LabelSelectorArgs(
                    match_labels={"kubernetes.io/metadata.name": held.namespace}
                ),
                pod_selector=LabelSelectorArgs(match_labels=INTERCEPTOR_LABELS),
            )
        ],
        ports=[NetworkPolicyPortArgs(port=held.port, protocol="TCP")],
    )


def build_gateway(
    service: ServiceSpec,
    spec: GatewayArgs,
    upstream: pulumi.Input[str],
    meta: Meta,
    opts: pulumi.ResourceOptions,
    held: HeldRoute | None = None,
) -> k8s.core.v1.Service:
    """Secrets, config, two nginx replicas, a PDB, NetworkPolicy and the public LoadBalancer.

    nginx proxies to `upstream`, the engine's URL; with `held` (activator.hold_requests), to KEDA's
    interceptor instead, which holds each request until an engine is ready.
    """
    name, engine_labels = service.name, service.labels
    # `<service>-gateway` unless the caller names it: two services' gateways never share a name.
    base = spec.get("object_name") or service.object_name(NAME)
    labels = engine_labels.apply(gateway_labels)
    api_keys = pulumi.Output.from_input(spec["api_keys"])
    objects: list[pulumi.Resource] = [
        k8s.core.v1.Secret(
            f"{name}-gateway-keys",
            metadata=meta(f"{base}-keys"),
            type="Opaque",
            string_data={KEYS_FILE: pulumi.Output.secret(api_keys.apply(keys_map))},
            opts=opts,
        ),
        k8s.core.v1.Secret(
            f"{name}-gateway-tls",
            metadata=meta(f"{base}-tls"),
            type="kubernetes.io/tls",
            string_data={
                "tls.crt": spec["tls_certificate"],
                "tls.key": pulumi.Output.secret(spec["tls_key"]),
            },
            opts=opts,
        ),
        k8s.core.v1.ConfigMap(
            f"{name}-gateway-config",
            metadata=meta(f"{base}-config"),
            data={CONFIG_FILE: _config(upstream, held)},
            opts=opts,
        ),
    ]
    k8s.apps.v1.Deployment(
        f"{name}-gateway",
        metadata=meta(base),
        spec=DeploymentSpecArgs(
            replicas=2,
            selector=LabelSelectorArgs(match_labels=labels),
            template=PodTemplateSpecArgs(metadata=ObjectMetaArgs(labels=labels), spec=_pod(base)),
        ),
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=objects)),
    )
    k8s.policy.v1.PodDisruptionBudget(
        f"{name}-gateway-pdb",
        metadata=meta(base),
        spec=PodDisruptionBudgetSpecArgs(
            min_available=1, selector=LabelSelectorArgs(match_labels=labels)
        ),
        opts=opts,
    )
    https = [NetworkPolicyPortArgs(port="https", protocol="TCP")]
    k8s.networking.v1.NetworkPolicy(
        f"{name}-gateway-traffic",
        metadata=meta(f"{base}-traffic"),
        spec=NetworkPolicySpecArgs(
            pod_selector=LabelSelectorArgs(match_labels=labels),
            policy_types=["Ingress", "Egress"],
            # Anyone may knock; nginx turns away every request without a known key.
            ingress=[NetworkPolicyIngressRuleArgs(ports=https)],
            egress=[
                _upstream_egress(engine_labels, held),
                NetworkPolicyEgressRuleArgs(
                    ports=[
                        NetworkPolicyPortArgs(port=53, protocol="UDP"),
                        NetworkPolicyPortArgs(port=53, protocol="TCP"),
                    ]
                ),
            ],
        ),
        opts=opts,
    )
    return k8s.core.v1.Service(
        f"{name}-gateway-svc",
        metadata=meta(base),
        spec=ServiceSpecArgs(
            type="LoadBalancer",
            selector=labels,
            ports=[ServicePortArgs(name="https", port=443, target_port="https")],
        ),
        opts=opts,
    )
