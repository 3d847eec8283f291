"""GCP rules for VPC firewalls: no admin port open to the whole internet."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import Config, Props, Rule, dig, is_open_cidr, items, resource_rule, truthy

FIREWALL = "gcp:compute/firewall:Firewall"


@resource_rule(
    "gcp-firewall-no-public-admin-ports",
    types=[FIREWALL],
    description="Firewall rules admit no traffic from 0.0.0.0/0 or ::/0 to SSH, RDP or other "
    "listed ports.",
    severity="high",
    frameworks=("CKV_GCP_2", "CKV_GCP_3"),
    remediation="Limit sourceRanges to your networks, or reach nodes through IAP TCP forwarding "
    "(35.235.240.0/20) instead.",
    config={
        "ports": {
            "type": "array",
            "items": {"type": "integer"},
            "default": [22, 3389],
            "description": "ports that must never be open to the internet",
        }
    },
)
def firewall_no_public_admin_ports(type_: str, props: Props, config: Config) -> Iterator[str]:
    """SSH and RDP open to the internet are brute-forced within minutes."""
    if dig(props, "direction", "INGRESS") != "INGRESS" or truthy(dig(props, "disabled")):
        return
    # Absent sourceRanges with no source tags or accounts: GCP applies 0.0.0.0/0.
    ranges = items(dig(props, "sourceRanges"))
    if not ranges and not items(dig(props, "sourceTags")):
        ranges = [] if items(dig(props, "sourceServiceAccounts")) else ["0.0.0.0/0"]
    open_ranges = [r for r in ranges if is_open_cidr(r)]
    if not open_ranges:
        return
    for allow in items(dig(props, "allows")):
        protocol = str(dig(allow, "protocol", "")).lower()
        if protocol not in ("tcp", "udp", "all", "sctp"):
            continue
        spans = items(dig(allow, "ports"))  # absent: every port
        for port in config["ports"]:
            if not spans or any(_covers(span, port) for span in spans):
                yield f"{open_ranges[0]} may reach {protocol} port {port}"


def _covers(span: Any, port: int) -> bool:
    """Whether a firewall port entry ("22" or "1000-2000") includes `port`."""
    low, _, high = str(span).partition("-")
    try:
        return int(low) <= port <= int(high or low)
    except ValueError:
        return False


RULES: tuple[Rule, ...] = (firewall_no_public_admin_ports,)
