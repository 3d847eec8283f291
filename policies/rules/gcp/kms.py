"""GCP rules for Cloud KMS: encryption keys rotate often enough."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .. import Config, Props, Rule, dig, resource_rule

CRYPTO_KEY = "gcp:kms/cryptoKey:CryptoKey"
DAY_SECONDS = 86_400


@resource_rule(
    "gcp-kms-key-rotation",
    types=[CRYPTO_KEY],
    description="Cloud KMS encryption keys rotate at least every maxDays days.",
    severity="medium",
    frameworks=("CKV_GCP_43",),
    remediation='Set rotationPeriod to at most the limit in seconds, e.g. "7776000s" for 90 '
    "days, as llmplane's stack key does.",
    config={
        "maxDays": {
            "type": "integer",
            "default": 90,
            "description": "longest rotation period, in days",
        }
    },
)
def kms_key_rotation(type_: str, props: Props, config: Config) -> Iterator[str]:
    """Rotation bounds how much data one leaked key version exposes."""
    if dig(props, "purpose", "ENCRYPT_DECRYPT") != "ENCRYPT_DECRYPT":
        return  # asymmetric and MAC keys cannot rotate automatically
    period = dig(props, "rotationPeriod")
    if period is None:  # absent: the key never rotates
        yield "rotationPeriod is not set: the key never rotates"
        return
    seconds = _seconds(period)
    if seconds is None:
        yield f'rotationPeriod {period!r} is not a duration in seconds such as "7776000s"'
    elif seconds > config["maxDays"] * DAY_SECONDS:
        days = seconds / DAY_SECONDS
        yield f"rotationPeriod is {period} ({days:g} days), over {config['maxDays']} days"


def _seconds(period: Any) -> float | None:
    """A protobuf duration ("7776000s", "86400.5s") in seconds; None when it is not one."""
    text = str(period).strip()
    if not text.endswith("s"):
        return None
    try:
        return float(text[:-1])
    except ValueError:
        return None


RULES: tuple[Rule, ...] = (kms_key_rotation,)
