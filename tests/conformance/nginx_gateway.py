"""Real nginx running the gateway's generated config, laid out as the pinned image and the pod do.

The pod runs `nginxinc/nginx-unprivileged:1.28.0-alpine` (IMAGE in kubernetes/gateway.py). Its
main nginx.conf is nginx.org's packaged one, edited by the image's Dockerfile:
- nginx/pkg-oss, tag 1.28.0-1 (commit 0300a9e32aa869634eebae4756e5a3274236773f),
  alpine/alpine/nginx.conf: the packaged file;
- nginx/docker-nginx-unprivileged, commit 323e5b6751570d492815dc397a2fccd979bc90dc (the last one
  whose stable images are 1.28.0), stable/alpine-slim/Dockerfile, which stable/alpine/Dockerfile
  builds on. Its `sed` lines delete `user  nginx;`, move the pid file from /run/nginx.pid to
  /tmp/nginx.pid, add five `*_temp_path /tmp/...` lines at the top of `http`, and change the
  stock default.conf's `listen 80` to 8080 (a file the pod's ConfigMap mount replaces). It
  links /var/log/nginx/access.log to /dev/stdout and error.log to /dev/stderr, runs as UID 101,
  and starts `nginx -g "daemon off;"`, stopped by SIGQUIT.

Here only paths move (under a temporary root) and the port (a free loopback one). Where the
installed nginx is older than 1.28 and a directive of the generated config is newer, `for_nginx`
rewrites it narrowly and checks that it found what it expected.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

from llmplane.components.kubernetes.gateway import (
    CONFIG_DIR,
    CONFIG_FILE,
    KEYS_DIR,
    KEYS_FILE,
    PORT,
    TLS_DIR,
)

# The image's /etc/nginx/nginx.conf after its Dockerfile's edits, restated directive by directive.
IMAGE_NGINX_CONF = """\
# No `user` line: the image runs as an unprivileged UID, and its Dockerfile deletes it.
worker_processes  auto;

error_log  /var/log/nginx/error.log notice;
# Moved from /run, which the unprivileged user cannot write.
pid        /tmp/nginx.pid;

events {
    worker_connections  1024;
}

http {
    # Added by the Dockerfile: the packaged defaults under /var/cache/nginx need root.
    proxy_temp_path /tmp/proxy_temp;
    client_body_temp_path /tmp/client_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;

    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;

    log_format  main  '$remote_addr - $remote_user [$time_local] "$request" '
                      '$status $body_bytes_sent "$http_referer" '
                      '"$http_user_agent" "$http_x_forwarded_for"';

    access_log  /var/log/nginx/access.log  main;

    sendfile        on;

    keepalive_timeout  65;

    include /etc/nginx/conf.d/*.conf;
}
"""
# The image's paths that a test moves under its own root.
IMAGE_PATH_PREFIXES = ("/etc/nginx/", "/tmp/", "/var/log/nginx/")
# `http2 on;` came with nginx 1.25.1; before it, HTTP/2 was a parameter of `listen`.
HTTP2_DIRECTIVE = (1, 25, 1)
_ABSOLUTE_PATH = re.compile(r"(?<=[\s\"'])/(?:etc|tmp|var|run|usr|opt|home)/[^\s;\"']*")


def nginx_version(nginx: str) -> tuple[int, int, int]:
    """The installed nginx's version, from `nginx -v`."""
    shown = subprocess.run([nginx, "-v"], capture_output=True, text=True, check=True).stderr
    found = re.search(r"nginx/(\d+)\.(\d+)\.(\d+)", shown)
    assert found is not None, f"unexpected `nginx -v` output: {shown!r}"
    major, minor, patch = (int(part) for part in found.groups())
    return major, minor, patch


def replace_once(text: str, old: str, new: str) -> str:
    """`text` with its one `old` replaced; fails if `old` is not there exactly once."""
    count = text.count(old)
    assert count == 1, f"expected {old!r} once in the generated config, found it {count} times"
    return text.replace(old, new)


def for_nginx(server_conf: str, version: tuple[int, int, int]) -> str:
    """The generated server config in the installed nginx's dialect: the same behaviour."""
    if version >= HTTP2_DIRECTIVE:
        return server_conf
    # nginx before 1.25.1 has no `http2` directive; `listen ... http2` is its spelling of it.
    without = replace_once(server_conf, "    http2 on;\n", "")
    return replace_once(without, f"listen {PORT} ssl;", f"listen {PORT} ssl http2;")


def at_port(server_conf: str, port: int) -> str:
    """The server config listening on loopback `port` instead of the pod's PORT on all addresses."""
    moved, count = re.subn(
        rf"(?m)^(    listen ){PORT}( ssl[^;]*;)$", rf"\g<1>127.0.0.1:{port}\g<2>", server_conf
    )
    assert count == 1, f"expected one `listen {PORT} ssl...;` line, found {count}"
    return moved


def under_root(text: str, root: Path) -> str:
    """`text` with the image's absolute paths moved under `root`; none may be left outside it."""
    # One pass: the root itself may lie under /tmp/, and must not be moved again.
    prefixes = "|".join(re.escape(prefix) for prefix in IMAGE_PATH_PREFIXES)
    text = re.sub(rf"(?<=[\s\"'])(?:{prefixes})", lambda found: f"{root}{found[0]}", text)
    directives = re.sub(r"(?m)^\s*#.*$", "", text)
    found = _ABSOLUTE_PATH.findall(directives)
    outside = [path for path in found if not path.startswith(str(root))]
    assert not outside, f"paths this test does not lay out: {outside}"
    return text


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Gateway:
    """nginx laid out under `root`, with the files the pod mounts in the places it mounts them."""

    nginx: str
    root: Path

    @property
    def main_conf(self) -> Path:
        """The image's /etc/nginx/nginx.conf."""
        return self.root / "etc/nginx/nginx.conf"

    @property
    def error_log(self) -> Path:
        """The image's error log (stderr in the pod)."""
        return self.root / "var/log/nginx/error.log"

    def _path(self, image_path: str) -> Path:
        """Where an absolute path of the image lies under the root."""
        return self.root / image_path.lstrip("/")

    def lay_out(self, server_conf: str, keys_map: str, cert: Path, key: Path) -> None:
        """Write the main config, and the ConfigMap's and Secrets' files where the pod has them."""
        for image_path in ("/etc/nginx", "/tmp", "/var/log/nginx", CONFIG_DIR, KEYS_DIR, TLS_DIR):
            self._path(image_path).mkdir(parents=True, exist_ok=True)
        # A fresh start: a failure message quotes only what this layout made nginx say.
        for log in (self.root / "nginx.out", self.error_log):
            log.unlink(missing_ok=True)
        self.main_conf.write_text(under_root(IMAGE_NGINX_CONF, self.root), encoding="utf-8")
        self._path("/etc/nginx/mime.types").write_text(_mime_types(self.nginx), encoding="utf-8")
        (self._path(CONFIG_DIR) / CONFIG_FILE).write_text(
            under_root(server_conf, self.root), encoding="utf-8"
        )
        (self._path(KEYS_DIR) / KEYS_FILE).write_text(keys_map, encoding="utf-8")
        shutil.copyfile(cert, self._path(TLS_DIR) / "tls.crt")
        shutil.copyfile(key, self._path(TLS_DIR) / "tls.key")

    def command(self, *extra: str) -> list[str]:
        """nginx on the laid-out config; `-e` so nothing is written to the compiled-in log path."""
        return [
            self.nginx,
            *("-p", f"{self.root}/", "-c", str(self.main_conf), "-e", str(self.error_log)),
            *extra,
        ]

    def test_config(self) -> subprocess.CompletedProcess[str]:
        """`nginx -t` on the laid-out config."""
        return subprocess.run(
            self.command("-t"), capture_output=True, text=True, timeout=30, check=False
        )

    @contextmanager
    def running(self) -> Iterator[subprocess.Popen[bytes]]:
        """nginx in the foreground as the image starts it, stopped as Kubernetes stops it."""
        with (self.root / "nginx.out").open("wb") as out:
            process = subprocess.Popen(
                self.command("-g", "daemon off;"),
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            yield process
        finally:
            _stop(process)

    def log(self) -> str:
        """What nginx wrote about itself, for a failure message."""
        parts = [self.root / "nginx.out", self.error_log]
        return "\n".join(p.read_text(errors="replace") for p in parts if p.exists())


def _mime_types(nginx: str) -> str:
    """The installed nginx's mime.types, which the image's config includes from its own."""
    shown = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    found = re.search(r"--conf-path=(\S+)", shown)
    installed = Path(found[1]).parent / "mime.types" if found else None
    if installed is not None and installed.is_file():
        return installed.read_text(encoding="utf-8")
    # Content types do not touch what the gateway does; an empty table keeps the layout.
    return "types {\n}\n"


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGQUIT (the image's STOPSIGNAL), then SIGTERM, then SIGKILL to nginx's own group."""
    for stop in (signal.SIGQUIT, signal.SIGTERM):
        if process.poll() is not None:
            return
        process.send_signal(stop)
        try:
            process.wait(timeout=5)
            return
        except subprocess.TimeoutExpired:
            continue
    # The session this test started for nginx: its master and any workers left behind.
    with suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(timeout=5)
