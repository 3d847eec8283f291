"""The real tools conformance tests run: a missing one skips the test, or fails it where CI runs.

CI sets LLMPLANE_CONFORMANCE_REQUIRED=1, so that a runner without the tool fails instead of
passing unchecked; on a developer's machine the test skips and says what to install.
"""

from __future__ import annotations

import os
import shutil

import pytest

REQUIRED_ENV = "LLMPLANE_CONFORMANCE_REQUIRED"
# Daemons such as nginx live in sbin, which the PATH of a non-root Debian user leaves out.
_SBIN = os.pathsep.join(("/usr/local/sbin", "/usr/sbin", "/sbin"))


def require_tool(name: str) -> str:
    """The path of the executable `name`; skip without it, or fail when CI requires the tools."""
    path = shutil.which(name) or shutil.which(name, path=_SBIN)
    if path is not None:
        return path
    if os.environ.get(REQUIRED_ENV) == "1":
        pytest.fail(f"{name} is not installed, and {REQUIRED_ENV}=1 requires it", pytrace=False)
    pytest.skip(f"{name} is not installed (set {REQUIRED_ENV}=1 to make this a failure)")
