"""The style profile's rebuild streams from the store (issue #14) and gives the same profile.

A real Chroma store holds the seed reports and the public corpus (the bureau's 12 documents among 63,
so the bureau subset applies).  The old rebuild, ``build_profile(prefer_bureau(list(store.iter_chunks())))``,
is the reference: the streamed one must give the same ``to_json()`` and hold less.
"""

from __future__ import annotations

import shutil
import tracemalloc
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drafting import style
from drafting.ingest import ingest
from drafting.records import Chunk
from drafting.sentences import split_sentences
from drafting.settings import get_settings
from drafting.store import CorpusStore
from drafting.style_cache import corpus_fingerprint, profile_chunks
from drafting.style_profile import _percentiles, build_profile, bureau_docs, prefer_bureau
from drafting.style_reading import CLAUSE_SPLIT_RE, MODIFIERS, body_lines, compose, first_word, jieba_dict
from tests.conftest import PUBLIC, SEEDS


@pytest.fixture(scope="module")
def mixed_store(tmp_path_factory: pytest.TempPathFactory) -> CorpusStore:
    root = tmp_path_factory.mktemp("style-stream")
    corpus = root / "corpus"
    shutil.copytree(SEEDS, corpus)
    for path in sorted(PUBLIC.glob("*.txt")):
        shutil.copy(path, corpus / path.name)
    settings = get_settings(store=root / "store")
    store = CorpusStore(settings)
    report = ingest([corpus], settings, store=store)
    assert report.failed == [] and report.added == 5 + len(list(PUBLIC.glob("*.txt")))
    return store


def _old_rebuild(store: CorpusStore) -> style.StyleProfile:
    """The rebuild before issue #14's change: every chunk in a list, then the bureau rule."""
    return build_profile(prefer_bureau(list(store.iter_chunks())), fingerprint=corpus_fingerprint(store))


def test_streamed_rebuild_gives_the_profile_of_the_list_rebuild(mixed_store: CorpusStore) -> None:
    old = _old_rebuild(mixed_store)
    new = build_profile(profile_chunks(mixed_store), fingerprint=corpus_fingerprint(mixed_store))
    assert new.to_json() == old.to_json()
    # the bureau subset applied (the filtered path is the one compared), and it is not empty
    docs = mixed_store.documents()
    assert 2 <= old.docs < len(docs)
    own = bureau_docs((d.doc_id, d.issuer, d.title) for d in docs)
    assert own is not None and len(own) == old.docs
    assert old.chunks == sum(d.chunks for d in docs if d.doc_id in own)
    # and the app's cached rebuild is the streamed one
    assert style.load_or_build(mixed_store).to_json() == old.to_json()


def _old_heads(chunks: list[Chunk]) -> tuple[list[tuple[str, int]], list[tuple[str, int]], list[int], int]:
    """openers, verbs and sentence lengths as build_profile counted them before: one list entry
    (head word, the whole rest of the sentence) per sentence and per clause; and how many openers
    joined a modifier to the verb read from the rest (``深入`` + ``推进…``)."""
    d = jieba_dict()
    firsts: list[tuple[str, str]] = []
    clause_firsts: list[tuple[str, str]] = []
    lengths: list[int] = []
    for c in chunks:
        _inline, body = body_lines(c.text)
        for line in body:
            for sent in split_sentences(line):
                if len(sent) < 2:
                    continue
                lengths.append(len(sent))
                firsts.append(first_word(sent, d))
                for k, clause in enumerate(CLAUSE_SPLIT_RE.split(sent)):
                    if len(clause) >= 2:
                        clause_firsts.append(first_word(clause, d, first_clause=k == 0))
    plain = Counter(w for w, _r in clause_firsts if w and w not in MODIFIERS)
    verbset = {w for w, n in plain.items() if n >= 3}
    verbs: Counter[str] = Counter()
    openers: Counter[str] = Counter()
    for w, rest in clause_firsts:
        verb = compose(w, rest, d, verbset)[1]
        if verb:
            verbs[verb] += 1
    joined = 0
    for w, rest in firsts:
        opener = compose(w, rest, d, verbset)[0]
        if opener:
            openers[opener] += 1
            joined += w in MODIFIERS and opener != w
    return openers.most_common(30), verbs.most_common(30), lengths, joined


def test_counted_heads_and_lengths_equal_the_per_sentence_lists(mixed_store: CorpusStore) -> None:
    chunks = list(mixed_store.iter_chunks())  # every document, not only the bureau's
    openers, verbs, lengths, joined = _old_heads(chunks)
    profile = build_profile(chunks)
    assert profile.openers == openers  # counts and the order of ties
    assert profile.verbs == verbs
    assert profile.sentence_chars == _sorted_percentiles(lengths)
    assert joined > 100  # the branch that reads the rest of a sentence was exercised


def _sorted_percentiles(values: list[int]) -> dict[str, float]:
    """The percentiles as computed before, from the sorted list of every value."""
    if not values:
        return {}
    v = sorted(values)

    def q(p: float) -> float:
        k = (len(v) - 1) * p
        lo = int(k)
        hi = min(lo + 1, len(v) - 1)
        return round(v[lo] + (v[hi] - v[lo]) * (k - lo), 1)

    return {"median": q(0.5), "p10": q(0.1), "p90": q(0.9), "mean": round(sum(v) / len(v), 1)}


@given(st.lists(st.integers(min_value=1, max_value=400), max_size=300))
def test_percentiles_from_counts_equal_the_sorted_list(values: list[int]) -> None:
    assert _percentiles(Counter(values)) == _sorted_percentiles(values)


def _alive_peak(store: CorpusStore, monkeypatch: pytest.MonkeyPatch,
                rebuild: Callable[[CorpusStore], Any]) -> int:
    """The most chunks read from the store alive at once while ``rebuild`` runs (the store's own
    iter_chunks, each chunk watched by a weak reference)."""
    real = store.iter_chunks
    alive = peak = 0

    def freed() -> None:
        nonlocal alive
        alive -= 1

    def watched(where: dict[str, Any] | None = None) -> Iterator[Chunk]:
        nonlocal alive, peak
        for chunk in real(where):
            weakref.finalize(chunk, freed)
            alive += 1
            peak = max(peak, alive)
            yield chunk

    monkeypatch.setattr(store, "iter_chunks", watched)
    try:
        rebuild(store)
    finally:
        monkeypatch.undo()
    return peak


def test_streamed_rebuild_holds_a_chunk_at_a_time(mixed_store: CorpusStore,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    n = mixed_store.count()
    assert _alive_peak(mixed_store, monkeypatch, _old_rebuild) == n
    # the app's rebuild: the chunk just read and the one counted before it
    assert _alive_peak(mixed_store, monkeypatch, _rebuild_uncached) <= 2


def _rebuild_uncached(store: CorpusStore) -> style.StyleProfile:
    cache = store.settings.store_path() / "style.json"
    cache.unlink(missing_ok=True)
    return style.load_or_build(store)


def _traced_peak(rebuild: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        rebuild()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_streamed_rebuild_peaks_below_the_list_rebuild(mixed_store: CorpusStore) -> None:
    build_profile([])  # jieba's dictionary loaded once, outside both measurements
    old = _traced_peak(lambda: _old_rebuild(mixed_store))
    new = _traced_peak(lambda: build_profile(profile_chunks(mixed_store)))
    # measured side by side in one run: 10.6 → 6.0 MiB here (3,850 chunks, 179 of them the bureau's)
    assert new < old, (new, old)


def test_profile_chunks_keeps_every_chunk_without_the_subset(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = get_settings(store=tmp_path / "store")
    store = CorpusStore(settings)
    ingest([corpus], settings, store=store)
    assert bureau_docs((str(m["doc_id"]), str(m.get("issuer", "")), str(m.get("title", "")))
                       for m in store.iter_metadata()) is None
    assert [c.chunk_id for c in profile_chunks(store)] == [c.chunk_id for c in store.iter_chunks()]
