"""The keyword index's own BM25 matrix builder gives the scores bm25s's ``index`` gives."""

from __future__ import annotations

from pathlib import Path

import bm25s
import numpy as np

from drafting import textseg
from drafting.keyword import bm25_index
from drafting.loaders import load_file
from tests.conftest import SEEDS


def _seed_tokens() -> list[list[str]]:
    out: list[list[str]] = []
    for p in sorted(SEEDS.glob("*.txt")):
        text = load_file(p, max_bytes=10**7).text
        out.extend(textseg.keyword_tokens(para) for para in text.split("\n") if para.strip())
    return [t if t else ["∅"] for t in out]


def test_bm25_matrix_matches_bm25s(tmp_path: Path) -> None:
    tokens = _seed_tokens()
    assert len(tokens) > 40
    ref = bm25s.BM25()
    ref.index(tokens, show_progress=False)
    ours = bm25_index(tokens)
    assert set(ours.vocab_dict) == set(ref.vocab_dict)
    assert ours.scores["num_docs"] == ref.scores["num_docs"] == len(tokens)
    assert len(ours.scores["data"]) == len(ref.scores["data"])
    queries = [["老旧", "小区", "改造"], ["党建"], ["精神文明", "建设", "物业"], [tokens[7][0]],
               list(ref.vocab_dict)[:40]]
    for q in queries:
        q = [t for t in q if t]
        a, b = ours.get_scores(q), ref.get_scores(q)
        assert a.dtype == np.float32
        assert np.array_equal(a, b), q  # bit for bit: the same float32 arithmetic
        assert (a > 0).sum() == (b > 0).sum() > 0
    ours.save(str(tmp_path / "bm25"))
    back = bm25s.BM25.load(str(tmp_path / "bm25"), mmap=True)
    assert np.allclose(back.get_scores(queries[0]), ref.get_scores(queries[0]), rtol=1e-6, atol=1e-7)
