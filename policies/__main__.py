"""The pack `pulumi preview --policy-pack policies` runs: the only place a PolicyPack is built.

Constructing a PolicyPack starts the analyzer's gRPC server and never returns, so nothing may
import this file; tests and `llmplane check` use policies.pack.build_policies instead.
"""

import json

from pulumi.runtime import get_config_env
from pulumi_policy import Policy, PolicyPack

from llmplane.policies.pack import PACK_NAME, pack_policies


def stack_waivers() -> dict[str, str]:
    """The stack's `llmplane:policyWaivers`, from the config the Pulumi CLI hands the pack.

    Where the CLI hands over no config, no policy is waived: a waived violation then blocks the
    deployment like any other, the safe way to fail.
    """
    raw = get_config_env().get("llmplane:policyWaivers")
    waivers = json.loads(raw) if isinstance(raw, str) else raw
    return {str(k): str(v) for k, v in waivers.items()} if isinstance(waivers, dict) else {}


policies: list[Policy] = [*pack_policies(waivers=stack_waivers())]
PolicyPack(name=PACK_NAME, policies=policies)
