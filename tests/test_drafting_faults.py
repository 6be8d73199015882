"""Engine faults seen through the drafter: what a writer gets when the endpoint misbehaves.

Engine-level behaviour (backoff, timeouts) is in test_engines.py; here the whole pipeline runs
(real store, real prompts, real HTTP server on 127.0.0.1) and we check what reaches the writer.
"""

from __future__ import annotations

from typing import Any

import pytest

from drafting.drafter import DraftRequest, draft, refine
from drafting.engines import OpenAIEngine
from drafting.errors import EngineError
from drafting.settings import Settings, get_settings
from tests.conftest import ingested_seeds
from tests.openai_stub import OpenAIStub, Reply

BULLETS = ["老旧小区改造完成120个，惠及居民3.2万户", "新增公共停车泊位1.2万个"]
GOOD = "（一）城市更新\n扎实推进老旧小区改造，完成120个，惠及居民3.2万户；新增公共停车泊位1.2万个。"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Any:
    settings = ingested_seeds(tmp_path_factory, "faults")
    return settings.store


def _settings(store: Any, stub: OpenAIStub, **kw: Any) -> Settings:
    base: dict[str, Any] = {"llm_retries": 2, "llm_read_timeout": 2.0}
    base.update(kw)
    return get_settings(store=store, llm_base_url=stub.base_url, llm_model="stub", **base)


def _is_chinese(msg: str) -> bool:
    return sum("\u4e00" <= ch <= "\u9fff" for ch in msg) >= 6


@pytest.mark.parametrize("status", [429, 500, 503])
def test_transient_errors_are_retried_then_the_draft_arrives(store: Any, stub: OpenAIStub,
                                                             status: int) -> None:
    stub.enqueue(Reply(status=status), Reply(status=status), Reply(text=GOOD))
    settings = _settings(store, stub)
    result = draft(DraftRequest(heading="城市更新", bullets=BULLETS), settings, engine=OpenAIEngine(settings))
    assert result.text == GOOD and result.status == "ok"
    assert len(stub.requests) == 3


@pytest.mark.parametrize("status", [429, 500])
def test_persistent_errors_give_up_after_the_retries_with_advice(store: Any, stub: OpenAIStub,
                                                                 status: int) -> None:
    stub.enqueue(*[Reply(status=status)] * 5)
    settings = _settings(store, stub, llm_retries=2)
    with pytest.raises(EngineError) as err:
        draft(DraftRequest(heading="城市更新", bullets=BULLETS), settings, engine=OpenAIEngine(settings))
    assert len(stub.requests) == 3  # one try + two retries, then stop
    assert err.value.partial == ""
    assert _is_chinese(err.value.help_message)


def test_slow_stream_within_the_timeout_still_drafts(store: Any, stub: OpenAIStub) -> None:
    stub.enqueue(Reply(text=GOOD, chunk_chars=6, delay=0.15))
    settings = _settings(store, stub, llm_read_timeout=2.0)
    deltas: list[str] = []
    result = draft(DraftRequest(heading="城市更新", bullets=BULLETS), settings, engine=OpenAIEngine(settings),
                   on_delta=deltas.append)
    assert "".join(deltas).strip() == GOOD and len(deltas) >= len(GOOD) // 6
    assert result.status == "ok"


def test_stream_that_stalls_keeps_the_partial_text(store: Any, stub: OpenAIStub) -> None:
    # The first delta arrives at once; the next would come after longer than the read timeout.
    stub.enqueue(Reply(text=GOOD, chunk_chars=5, delay=1.5), Reply(text="不应到达"))
    settings = _settings(store, stub, llm_read_timeout=0.5)
    deltas: list[str] = []
    with pytest.raises(EngineError) as err:
        draft(DraftRequest(heading="城市更新", bullets=BULLETS), settings, engine=OpenAIEngine(settings),
              on_delta=deltas.append)
    assert err.value.partial == GOOD[:5] == "".join(deltas)
    assert len(stub.requests) == 1  # a half-delivered stream is not silently re-requested
    assert _is_chinese(err.value.help_message)


def test_stream_cut_halfway_keeps_the_partial_text(store: Any, stub: OpenAIStub) -> None:
    stub.enqueue(Reply(text=GOOD, chunk_chars=5, cut_after=4), Reply(text="不应到达"))
    settings = _settings(store, stub)
    with pytest.raises(EngineError) as err:
        draft(DraftRequest(heading="城市更新", bullets=BULLETS), settings, engine=OpenAIEngine(settings))
    assert err.value.partial == GOOD[:20]
    assert len(stub.requests) == 1


def test_refine_failure_keeps_the_partial_and_the_previous_draft_is_untouched(store: Any,
                                                                              stub: OpenAIStub) -> None:
    previous = GOOD
    stub.enqueue(Reply(text="（一）城市更新\n压缩后的稿件，完成120个。", chunk_chars=3, cut_after=2))
    settings = _settings(store, stub)
    with pytest.raises(EngineError) as err:
        refine(previous, "压缩一下", DraftRequest(heading="城市更新", bullets=BULLETS), settings,
               engine=OpenAIEngine(settings))
    assert err.value.partial == "（一）城市更新"[:6]
    assert previous == GOOD


def test_invented_figure_in_a_refinement_is_flagged(store: Any, stub: OpenAIStub) -> None:
    stub.enqueue(Reply(text="（一）城市更新\n完成老旧小区改造120个，惠及居民3.2万户，新增泊位1.2万个，投资9亿元。"))
    settings = _settings(store, stub)
    result = refine(GOOD, "语气更正式", DraftRequest(heading="城市更新", bullets=BULLETS), settings,
                    engine=OpenAIEngine(settings))
    assert result.status == "needs_review"
    assert [f.raw for f in result.figures.unverified] == ["9亿元"]
