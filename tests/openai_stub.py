"""A real OpenAI-compatible HTTP server on 127.0.0.1 for deterministic tests.

Scripted like llm's MockModel: ``server.enqueue(Reply(...))`` queues what the next chat request
gets; every request body is recorded in ``server.requests`` so tests can assert on what was sent.
Supports ``/v1/chat/completions`` (plain and SSE streaming), ``/v1/embeddings`` and ``/v1/models``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    text: str = ""
    status: int = 200
    chunk_chars: int = 4  # characters per SSE delta
    delay: float = 0.0  # seconds between deltas (a slow stream)
    cut_after: int | None = None  # drop the connection after this many deltas
    hang: float = 0.0  # sleep before sending any byte (a read timeout)
    raw: bytes | None = None  # send these bytes verbatim as the body (garbage)


def fake_vector(text: str, dim: int = 32) -> list[float]:
    digest = hashlib.sha256(text.encode()).digest()
    vec = [((digest[i % len(digest)] + i) % 17) / 17.0 - 0.5 for i in range(dim)]
    norm = sum(v * v for v in vec) ** 0.5 or 1.0
    return [v / norm for v in vec]


class OpenAIStub:
    def __init__(self) -> None:
        self.replies: deque[Reply] = deque()
        self.requests: list[dict[str, Any]] = []
        self.default = Reply(text="好的。")
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, obj: Any) -> None:
                body = json.dumps(obj, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path.rstrip("/").endswith("/models"):
                    self._json(200, {"object": "list", "data": [{"id": "stub-model", "object": "model"}]})
                else:
                    self._json(404, {"error": {"message": "not found"}})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                stub.requests.append({"path": self.path, "body": body})
                if self.path.endswith("/embeddings"):
                    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
                    data = [{"object": "embedding", "index": i, "embedding": fake_vector(t)}
                            for i, t in enumerate(inputs)]
                    self._json(200, {"object": "list", "data": data, "model": body.get("model"), "usage": {}})
                    return
                reply = stub.replies.popleft() if stub.replies else stub.default
                if reply.hang:
                    time.sleep(reply.hang)
                if reply.raw is not None:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(reply.raw)))
                    self.end_headers()
                    self.wfile.write(reply.raw)
                    return
                if reply.status != 200:
                    self._json(reply.status, {"error": {"message": f"scripted {reply.status}",
                                                        "type": "server_error"}})
                    return
                if body.get("stream"):
                    # the client may give up (a read-timeout test): expected
                    with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                        self._stream(reply, body)
                else:
                    self._json(200, _completion(reply.text, body.get("model", "stub-model")))

            def _stream(self, reply: Reply, body: dict[str, Any]) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                parts = [reply.text[i : i + reply.chunk_chars]
                         for i in range(0, len(reply.text), reply.chunk_chars)]
                model = body.get("model", "stub-model")
                for n, part in enumerate(parts):
                    if reply.cut_after is not None and n >= reply.cut_after:
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        self.close_connection = True
                        return
                    chunk = {
                        "id": "chatcmpl-stub",
                        "object": "chat.completion.chunk",
                        "created": 0,
                        "model": model,
                        "choices": [{"index": 0, "delta": {"content": part}, "finish_reason": None}],
                    }
                    self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                    self.wfile.flush()
                    if reply.delay:
                        time.sleep(reply.delay)
                end = {
                    "id": "chatcmpl-stub",
                    "object": "chat.completion.chunk",
                    "created": 0,
                    "model": model,
                    "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                }
                self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                self.wfile.flush()
                self.close_connection = True

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> OpenAIStub:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def enqueue(self, *replies: Reply) -> None:
        self.replies.extend(replies)


def _completion(text: str, model: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-stub",
        "object": "chat.completion",
        "created": 0,
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
