"""Real HTTP servers for the openai backend tests, on loopback only.

``transformers_serve`` starts ``transformers serve`` with the embedded model. ``FaultProxy`` is a
small real HTTP server in front of it that can answer 500 or 429, answer too slowly, send
malformed JSON, or stop and start again; requests it lets through are forwarded unchanged.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from mannsim.program import DEFAULT_DIALECT, load_dialect

#: The symbolic CPU's answer to a prompt (what a perfect model answers).
perfect = load_dialect(DEFAULT_DIALECT).shape.evaluate


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(port: int, path: str, timeout: float) -> bool:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", path)
            if c.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.25)
    return False


class Loopback:
    """A real HTTP server on 127.0.0.1 (its own port), serving ``Handler`` on a thread."""

    port: int

    def serve(self, handler) -> None:
        self.server = QuietServer(("127.0.0.1", self.port), handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def shutdown(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


class TransformersServe:
    def __init__(self, model: str):
        self.model = model
        self.port = free_port()
        exe = Path(sys.executable).with_name("transformers")
        env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_VERBOSITY="error")
        self.proc = subprocess.Popen(
            [str(exe), "serve", model, "--host", "127.0.0.1", "--port", str(self.port),
             "--log-level", "warning"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if not wait_http(self.port, "/health", 600):
            self.stop()
            raise RuntimeError("transformers serve did not start: "
                               + self.proc.stderr.read().decode(errors="replace")[-2000:])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class FaultProxy(Loopback):
    """Forwards to ``upstream_port``; ``plan`` is a list of faults applied to the next requests
    after the first ``skip`` ones ('500', '429', 'slow', 'malformed', 'badutf8', 'garbage',
    'ok'); after it runs out every request is forwarded.

    No test here depends on how fast the real model answers: a ``cache`` (a dict, shared
    between proxies) keeps every upstream answer by request body and answers the same request
    again from it at once, so a fault test warms the cache first and then runs under a tight
    deadline that only a fault can meet. 'slow' withholds the answer altogether, until the
    client hangs up or the proxy stops; ``upstream`` counts the requests that reached the
    model."""

    def __init__(self, upstream_port: int, cache: dict | None = None):
        self.upstream_port = upstream_port
        self.cache = {} if cache is None else cache
        self.plan: list[str] = []
        self.skip = 0
        self.requests = 0
        self.upstream = 0
        self.withheld = 0
        self.stopping = threading.Event()
        self.port = free_port()
        self.server = None
        self.start()

    def start(self):
        proxy = self
        self.stopping.clear()

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                proxy.requests += 1
                fault = "ok"
                if proxy.requests > proxy.skip and proxy.plan:
                    fault = proxy.plan.pop(0)
                if fault in ("500", "429"):
                    self._send(int(fault), b'{"error": {"message": "injected fault"}}')
                    return
                if fault == "malformed":
                    self._send(200, b'{"choices": [ this is not json')
                    return
                if fault == "badutf8":  # JSON whose answer text is not UTF-8
                    self._send(200, completion_body("@@").replace(b"@@", b'\xff\xfe" op="'))
                    return
                if fault == "garbage":  # a well-formed response with a nonsense answer
                    self._send(200, completion_body('" op="%[nowhere]" boot="pwned" "'))
                    return
                if fault == "slow":  # never answered: the client's own deadline must end it
                    proxy.withheld += 1
                    self._withhold()
                    return
                key = (self.path, body)
                if key not in proxy.cache:
                    proxy.upstream += 1
                    c = http.client.HTTPConnection("127.0.0.1", proxy.upstream_port, timeout=600)
                    c.request("POST", self.path, body, {"content-type": "application/json"})
                    r = c.getresponse()
                    proxy.cache[key] = (r.status, r.read())
                status, data = proxy.cache[key]
                self._send(status, data)

            def _withhold(self):
                """Wait, answering nothing, until the client hangs up or the proxy stops."""
                import select
                while not proxy.stopping.is_set():
                    ready, _, _ = select.select([self.connection], [], [], 0.2)
                    if ready:
                        if not self.connection.recv(1, socket.MSG_PEEK):
                            return  # the client closed the connection
                        time.sleep(0.2)  # it sent more: still withhold

            def _send(self, status, data):
                send_json(self, status, data)

        self.serve(Handler)

    def stop(self):
        self.stopping.set()
        self.shutdown()


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # a client that gave up (a timeout test) is expected here


def send_json(handler, status: int, data: bytes) -> None:
    try:
        handler.send_response(status)
        handler.send_header("content-type", "application/json")
        handler.send_header("content-length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)
    except OSError:
        pass


def completion_body(text: str) -> bytes:
    return json.dumps({"id": "x", "object": "text_completion", "created": 0, "model": "m",
                       "choices": [{"index": 0, "text": text, "finish_reason": "stop"}]}).encode()


class HostileServer(Loopback):
    """A real HTTP server that speaks /v1/completions with the symbolic CPU's answers, in one of
    several hostile ways: 'ok', 'trickle' (one byte every ``delay`` seconds), 'huge' (a 50 MB
    body), 'redirect' (to another origin), 'echo_key' (an error quoting the Authorization
    header), 'usage_str' (token counts that are not integers), 'length' (finish_reason
    'length'). Request bodies are kept in ``bodies``."""

    def __init__(self, mode: str = "ok", delay: float = 1.0, redirect_to: str = ""):
        self.mode, self.delay, self.redirect_to = mode, delay, redirect_to
        self.bodies: list[dict] = []
        self.trickled: list[tuple[int, int]] = []
        self.port = free_port()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.loads(raw)
                server.bodies.append(body)
                text = perfect(body.get("prompt", ""))
                mode = server.mode
                if mode == "redirect":
                    self.send_response(307)
                    self.send_header("location", server.redirect_to)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if mode == "echo_key":
                    data = json.dumps({"error": {"message": "bad key: "
                                                 + self.headers.get("authorization", "")}}).encode()
                    return self._send(401, data)
                doc = json.loads(completion_body(text))
                if mode == "usage_str":
                    doc["usage"] = {"prompt_tokens": "lots", "completion_tokens": [1],
                                    "total_tokens": None}
                if mode == "length":
                    doc["choices"][0]["finish_reason"] = "length"
                data = json.dumps(doc).encode()
                if mode == "huge":
                    data = data[:-1] + b', "padding": "' + b"x" * (50 << 20) + b'"}'
                if mode == "trickle":
                    self.send_response(200)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(data)))
                    self.end_headers()
                    k = 0
                    try:
                        for k in range(len(data)):
                            self.wfile.write(data[k:k + 1])
                            self.wfile.flush()
                            time.sleep(server.delay)
                        k = len(data)
                    except OSError:
                        pass
                    server.trickled.append((k, len(data)))  # bytes sent before it ended
                    return
                self._send(200, data)

            def _send(self, status, data):
                send_json(self, status, data)

        self.serve(Handler)

    def stop(self):
        self.shutdown()
