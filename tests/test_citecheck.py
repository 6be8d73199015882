"""Policy citations checked against the original in a real store (two Shanghai documents of the
public corpus)."""

from __future__ import annotations

import json
import shutil

import pytest

from drafting.citecheck import check_citations, find_citations
from drafting.drafter import DraftRequest, draft
from drafting.ingest import ingest
from drafting.settings import get_settings
from drafting.store import CorpusStore
from tests.conftest import PUBLIC

FILES = ("006.txt", "011.txt")
TITLE = "关于开展2024年本市海绵城市建设工作的函"
FULL = "上海市住房和城乡建设管理委员会关于开展2024年本市海绵城市建设工作的函"
DOCNO = "沪建综规〔2024〕61号"


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> CorpusStore:
    if not (PUBLIC / FILES[0]).exists():
        pytest.skip("the public corpus (../shared/corpus/public) is not here")
    root = tmp_path_factory.mktemp("cite")
    (root / "c").mkdir()
    lines = []
    for line in (PUBLIC / "manifest.jsonl").read_text(encoding="utf-8").splitlines():
        if json.loads(line)["file"] in FILES:
            lines.append(line)
    for f in FILES:
        shutil.copy(PUBLIC / f, root / "c" / f)
    (root / "c" / "manifest.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    settings = get_settings(store=root / "store")
    ingest([root / "c"], settings)
    return CorpusStore(settings)


def _kinds(store: CorpusStore, text: str) -> list[str]:
    return [f.kind for f in check_citations(store, text)]


def test_a_correct_citation_passes(store: CorpusStore) -> None:
    assert check_citations(store, f"根据《{TITLE}》（{DOCNO}）要求，全面推进海绵城市建设。") == []
    assert check_citations(store, f"根据《{FULL}》（{DOCNO}）要求。") == []


def test_title_with_characters_missing_or_added_suggests_the_real_title(store: CorpusStore) -> None:
    dropped = check_citations(store, f"根据《关于开展2024年海绵城市建设工作的函》（{DOCNO}）要求。")
    assert [f.kind for f in dropped] == ["title"] and dropped[0].suggestion == f"《{TITLE}》"
    assert f"原文为《{TITLE}》" in dropped[0].message
    added = check_citations(store, f"根据《关于进一步开展2024年本市海绵城市建设工作的函》（{DOCNO}）要求。")
    assert [f.kind for f in added] == ["title"] and added[0].suggestion == f"《{TITLE}》"
    # characters changed: another document, not a near title of this one
    assert _kinds(store, "根据《关于开展2024年本市韧性城市建设工作的函》要求。") == ["absent"]


def test_docno_must_be_the_documents_own_and_use_hexagonal_brackets(store: CorpusStore) -> None:
    wrong = check_citations(store, f"根据《{TITLE}》（沪建综规〔2024〕64号）要求。")
    assert [f.kind for f in wrong] == ["docno"] and wrong[0].suggestion == DOCNO and DOCNO in wrong[0].message
    for bad in ("沪建综规[2024]61号", "沪建综规（2024）61号"):
        out = check_citations(store, f"根据《{TITLE}》（{bad}）要求。")
        assert [f.kind for f in out] == ["brackets"] and out[0].suggestion == DOCNO
        assert "〔〕" in out[0].message and "GB/T 9704" in out[0].message


def test_quotes_must_be_verbatim_or_are_shown_beside_the_closest_passage(store: CorpusStore) -> None:
    text = "\n".join(c.text for c, _e in store.get_chunks([i for i, _t, _m in store.iter_rows([])]).values())
    sentence = next(s for s in text.split("。") if "海绵城市" in s and 12 <= len(s) <= 60
                    and "“" not in s).strip()
    quote = sentence[:16]
    assert check_citations(store, f"根据《{TITLE}》（{DOCNO}）要求，“{quote}”。") == []
    misquoted = quote[:5] + "全面" + quote[7:]
    out = check_citations(store, f"根据《{TITLE}》（{DOCNO}）要求，“{misquoted}”。")
    assert [f.kind for f in out] == ["quote"] and out[0].raw == misquoted
    assert quote[8:14] in out[0].passage and "最接近的原文" in out[0].message


def test_a_document_not_in_the_store_is_said_so_never_guessed(store: CorpusStore) -> None:
    out = check_citations(store,
                          "根据《上海市绿色建筑创建行动实施方案》（沪建建材〔2020〕494号）要求，“大力发展绿色建筑”。")
    assert [f.kind for f in out] == ["absent"]
    assert out[0].message == ("《上海市绿色建筑创建行动实施方案》不在语料库中，"
                              "无法核对名称、文号和引文，请对照原件核实。")
    assert not out[0].suggestion and out[0].severity == "提示"
    # not a policy document, or no store at all
    assert find_citations("据《人民日报》报道。") == []
    assert [f.kind for f in check_citations(None, f"根据《{TITLE}》要求。")] == ["absent"]


def test_every_draft_checks_its_citations(store: CorpusStore) -> None:
    req = DraftRequest("海绵城市",
                       ["根据《关于开展2024年海绵城市建设工作的函》（沪建综规[2024]61号）要求推进海绵城市建设"])
    res = draft(req, store.settings, store=store)
    if "《关于开展2024年海绵城市建设工作的函》" not in res.text:
        pytest.skip("the offline composition dropped the citation")
    kinds = {c["kind"] for c in res.to_json()["corpus"]["citations"]}
    assert {"title", "brackets"} <= kinds and res.status == "needs_review"
