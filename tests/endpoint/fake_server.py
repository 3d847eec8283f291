"""A loopback stand-in for TGI, vLLM and SGLang: the wire protocol huggingface_hub's clients use.

It serves what `llmplane smoke` and `bench` reach through InferenceClient: TGI's `/generate`
and `/generate_stream` (server-sent events), the OpenAI-compatible `/v1/chat/completions`
(streaming and not), and the probes `/health`, `/info`, `/v1/models`, `/get_model_info` and
`/metrics`, each only on the engines that have it. A `Script` makes it misbehave as real
endpoints do: loading (503), bursts of 5xx, requests that hang, malformed bodies, the wrong
model, a gateway that wants a Bearer key and quotes headers back in its errors.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "Qwen/Qwen2.5-7B-Instruct"
WORDS = ("The", " quick", " brown", " fox", " jumps", " over", " the", " lazy", " dog", ".")
GENERATION = ("/generate", "/generate_stream", "/v1/chat/completions")
QUEUE_METRIC = {"tgi": "tgi_queue_size", "vllm": "vllm:num_requests_waiting"}
OWNER = {"tgi": "text-generation-inference", "vllm": "vllm", "sglang": "sglang"}
# Longest a hanging request is held: past any client timeout a test uses, short of pytest's.
HANG_SECONDS = 30.0


@dataclass
class Script:
    """How the fake endpoint behaves; a test changes it before or between calls."""

    engine: str = "tgi"
    """tgi, vllm or sglang: which routes exist and how they answer."""
    model_id: str = MODEL
    """The model the endpoint says it serves."""
    tokens: int = 8
    """Tokens in an answer, unless max_new_tokens / max_tokens asks for fewer."""
    token_delay: float = 0.0
    """Seconds before each streamed token (and, summed, before a whole answer)."""
    loading: int = 0
    """The next N requests, whatever the path, answer 503 as a loading TGI does."""
    burst: list[int] = field(default_factory=list)
    """Statuses the next generation requests answer with, one each, in order."""
    hang: set[str] = field(default_factory=set)
    """Paths whose requests get no answer at all (until the server stops)."""
    malformed: set[str] = field(default_factory=set)
    """"json": bodies cut short; "sse": a stream event that is not JSON; "info": model probes."""
    require_token: str | None = None
    """When set, every path answers 401 unless `Authorization: Bearer <it>` comes with it."""
    echo_auth: bool = False
    """Error bodies quote the request's Authorization header, as careless proxies do."""
    metrics: bool = True
    """Whether /metrics carries the engine's queue metric."""


@dataclass(frozen=True)
class Seen:
    """One request as the server received it."""

    method: str
    path: str
    authorization: str | None
    body: dict[str, Any] | None


class FakeEndpoint:
    """The running server: its URL, the script it follows, and the requests it has seen."""

    def __init__(self, script: Script | None = None, port: int = 0) -> None:
        self.script = script or Script()
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = _Server(("127.0.0.1", port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """http://127.0.0.1:<port>."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeEndpoint:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Release hanging requests and stop serving."""
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def paths(self, method: str | None = None) -> list[str]:
        """The paths requested so far, in order (of one method, if given)."""
        with self.lock:
            return [s.path for s in self.seen if method is None or s.method == method]

    def still_loading(self) -> bool:
        """Count one request against `loading`: whether it must answer 503; thread-safe."""
        with self.lock:
            if self.script.loading > 0:
                self.script.loading -= 1
                return True
        return False

    def next_burst(self) -> int | None:
        """The status the next generation request must answer with, if a burst is on."""
        with self.lock:
            return self.script.burst.pop(0) if self.script.burst else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    # socketserver's default backlog of 5 drops connections a bench opens at once, and the
    # kernel retries them a second later: latency the real engines would not add.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], handler: type, endpoint: FakeEndpoint) -> None:
        super().__init__(address, handler)
        self.endpoint = endpoint

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Quiet: clients that time out or drop a stream reset their connections on purpose."""


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 keeps connections alive between requests, as the engines do; streams are chunked.
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        """No Nagle: headers and body go out at once, as real servers send them."""
        super().setup()
        # Otherwise each small write waits for the client's delayed ACK: 40 ms a response.
        self.request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: pytest shows the test's own output only."""

    def do_GET(self) -> None:
        """Probes: health, model info, metrics."""
        self._dispatch("GET")

    def do_POST(self) -> None:
        """Generation: TGI's own routes and the OpenAI-compatible chat API."""
        self._dispatch("POST")

    # --- plumbing ---------------------------------------------------------------------------

    @property
    def _endpoint(self) -> FakeEndpoint:
        server = self.server
        assert isinstance(server, _Server)
        return server.endpoint

    @property
    def _script(self) -> Script:
        return self._endpoint.script

    def _dispatch(self, method: str) -> None:
        endpoint = self._endpoint
        path = self.path.split("?", 1)[0]
        body = self._read_body()
        auth = self.headers.get("Authorization")
        with endpoint.lock:
            endpoint.seen.append(Seen(method, path, auth, body if isinstance(body, dict) else None))
        script = self._script
        if script.require_token is not None and auth != f"Bearer {script.require_token}":
            self._error(401, "missing or unknown API key")
            return
        if path in script.hang:
            # No answer: the client's timeout must fire. Freed when the server stops.
            endpoint.stopping.wait(HANG_SECONDS)
            self.close_connection = True
            return
        if endpoint.still_loading():
            self._error(503, "Model is loading", "overloaded")
            return
        if method == "POST" and body is None:
            self._error(422, "Failed to deserialize the JSON body", "validation")
            return
        if method == "POST" and path in GENERATION:
            status = endpoint.next_burst()
            if status is not None:
                self._error(status, f"burst: answering {status}", "overloaded")
                return
        route = _ROUTES.get((method, path))
        if route is None or script.engine not in route[0]:
            self._error(404, f"no route {method} {path} on {script.engine}")
            return
        route[1](self, body if isinstance(body, dict) else {})

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        if not length:
            return {}
        raw = self.rfile.read(length)
        try:
            return json.loads(raw)
        except ValueError:
            return None

    def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _json(self, document: Any) -> None:
        if "json" in self._script.malformed:
            self._send(200, json.dumps(document).encode()[:20])
        else:
            self._send(200, json.dumps(document).encode())

    def _error(self, status: int, message: str, error_type: str | None = None) -> None:
        if self._script.echo_auth:
            message += f" (you sent Authorization: {self.headers.get('Authorization')})"
        document: dict[str, Any] = {"error": message}
        if error_type is not None:
            document["error_type"] = error_type
        self._send(status, json.dumps(document).encode())

    def _stream(self, events: list[dict[str, Any]], done: bool) -> None:
        """Server-sent events in chunked encoding, one token each, with the script's pacing."""
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        payloads = [f"data:{json.dumps(event)}\n\n" for event in events]
        if "sse" in self._script.malformed:
            # One good token, then an event cut in half: the stream breaks mid-answer.
            payloads = [payloads[0], 'data:{"token": {"id": 1, "te\n\n']
        if done:
            payloads.append("data: [DONE]\n\n")
        try:
            for payload in payloads:
                time.sleep(self._script.token_delay)
                data = payload.encode()
                self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
                self.wfile.flush()
            self.wfile.write(b"0\r\n\r\n")
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _count(self, asked: Any) -> int:
        return min(self._script.tokens, asked) if isinstance(asked, int) else self._script.tokens

    # --- routes -----------------------------------------------------------------------------

    def _health(self, _: dict[str, Any]) -> None:
        self._send(200, b"", "text/plain")

    def _model_probe(self, document: dict[str, Any]) -> None:
        if "info" in self._script.malformed:
            self._send(200, b"<html>not json</html>", "text/html")
        else:
            self._send(200, json.dumps(document).encode())

    def _info(self, _: dict[str, Any]) -> None:
        self._model_probe(
            {
                "model_id": self._script.model_id,
                "model_sha": None,
                "model_pipeline_tag": "text-generation",
                "max_total_tokens": 8192,
                "version": "3.3.7",
            }
        )

    def _models(self, _: dict[str, Any]) -> None:
        owner = OWNER[self._script.engine]
        entry = {"id": self._script.model_id, "object": "model", "created": 0, "owned_by": owner}
        self._model_probe({"object": "list", "data": [entry]})

    def _model_info(self, _: dict[str, Any]) -> None:
        script = self._script
        self._model_probe(
            {
                "model_path": script.model_id,
                "tokenizer_path": script.model_id,
                "is_generation": True,
            }
        )

    def _metrics(self, _: dict[str, Any]) -> None:
        name = QUEUE_METRIC.get(self._script.engine, "sglang:num_queue_reqs")
        lines = [f"# TYPE {name} gauge", f"{name} 0"] if self._script.metrics else []
        lines.append("process_cpu_seconds_total 1.5")
        self._send(200, ("\n".join(lines) + "\n").encode(), "text/plain; version=0.0.4")

    def _generate(self, body: dict[str, Any]) -> None:
        n = self._count(body.get("parameters", {}).get("max_new_tokens"))
        time.sleep(self._script.token_delay * n)
        tokens = [_token(i) for i in range(n)]
        details = {"finish_reason": "length", "generated_tokens": n, "seed": None}
        self._json(
            {
                "generated_text": "".join(t["text"] for t in tokens),
                "details": {**details, "prefill": [], "tokens": tokens},
            }
        )

    def _generate_stream(self, body: dict[str, Any]) -> None:
        n = self._count(body.get("parameters", {}).get("max_new_tokens"))
        events: list[dict[str, Any]] = [
            {"index": i, "token": _token(i), "generated_text": None, "details": None}
            for i in range(n)
        ]
        events[-1]["generated_text"] = "".join(WORDS[i % len(WORDS)] for i in range(n))
        events[-1]["details"] = {"finish_reason": "length", "generated_tokens": n, "seed": None}
        self._stream(events, done=False)

    def _chat(self, body: dict[str, Any]) -> None:
        script = self._script
        if script.engine == "vllm" and body.get("model") != script.model_id:
            # vLLM checks the request's model against the names it serves.
            message = f"The model `{body.get('model')}` does not exist."
            document = {"object": "error", "message": message, "type": "NotFoundError"}
            self._send(404, json.dumps({**document, "code": 404}).encode())
            return
        n = self._count(body.get("max_tokens"))
        head = {"id": "chatcmpl-1", "created": 1700000000, "model": script.model_id}
        head["system_fingerprint"] = "3.3.7-native"
        usage = {"prompt_tokens": 12, "completion_tokens": n, "total_tokens": 12 + n}
        text = "".join(WORDS[i % len(WORDS)] for i in range(n))
        if not body.get("stream"):
            time.sleep(script.token_delay * n)
            message = {"role": "assistant", "content": text}
            choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "length"}
            self._json({**head, "object": "chat.completion", "choices": [choice], "usage": usage})
            return
        chunk = {**head, "object": "chat.completion.chunk"}

        def event(delta: dict[str, Any], finish: str | None) -> dict[str, Any]:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            return {**chunk, "choices": [choice], "usage": None}

        # vLLM opens with a role-only chunk; the first token comes after it.
        events = (
            [event({"role": "assistant", "content": ""}, None)] if script.engine == "vllm" else []
        )
        events += [
            event({"role": "assistant", "content": WORDS[i % len(WORDS)]}, None) for i in range(n)
        ]
        events[-1]["choices"][0]["finish_reason"] = "length"
        if (body.get("stream_options") or {}).get("include_usage"):
            events.append({**chunk, "choices": [], "usage": usage})
        self._stream(events, done=True)


def _token(index: int) -> dict[str, Any]:
    return {"id": 100 + index, "text": WORDS[index % len(WORDS)], "logprob": -0.5, "special": False}


ALL = frozenset({"tgi", "vllm", "sglang"})
_ROUTES: dict[tuple[str, str], tuple[frozenset[str], Any]] = {
    ("GET", "/health"): (ALL, _Handler._health),
    ("GET", "/info"): (frozenset({"tgi"}), _Handler._info),
    ("GET", "/v1/models"): (ALL, _Handler._models),
    ("GET", "/get_model_info"): (frozenset({"sglang"}), _Handler._model_info),
    ("GET", "/metrics"): (ALL, _Handler._metrics),
    ("POST", "/generate"): (frozenset({"tgi"}), _Handler._generate),
    ("POST", "/generate_stream"): (frozenset({"tgi"}), _Handler._generate_stream),
    ("POST", "/v1/chat/completions"): (ALL, _Handler._chat),
}
