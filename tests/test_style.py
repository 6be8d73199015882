"""House-style profile (built from the real seed reports) and the conformance check."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from drafting import style, style_cache, style_profile, style_reading, style_score
from drafting.chunking import chunk_document, doc_id_for
from drafting.ingest import ingest, read_manifest
from drafting.loaders import load_file
from drafting.records import Chunk
from drafting.settings import get_settings
from drafting.store import CorpusStore
from drafting.structure import parse_document
from tests.conftest import PUBLIC, SEEDS

CJK = re.compile(r"[\u4e00-\u9fff]")


def _chunks(folder: Path) -> list[Chunk]:
    hints = read_manifest(folder)
    out: list[Chunk] = []
    for path in sorted(folder.glob("*.txt")):
        text = load_file(path, max_bytes=50 * 1024 * 1024).text
        parsed = parse_document(text, hints=hints.get(path.name))
        out.extend(chunk_document(parsed, doc_id=doc_id_for(text), source=str(path)))
    return out


@pytest.fixture(scope="module")
def seed_chunks() -> list[Chunk]:
    chunks = _chunks(SEEDS)
    assert len({c.doc_id for c in chunks}) == 5
    return chunks


@pytest.fixture(scope="module")
def profile(seed_chunks: list[Chunk]) -> style.StyleProfile:
    return style.build_profile(seed_chunks, fingerprint="seeds")


# --------------------------------------------------------------------------------------------
# building blocks


@pytest.mark.parametrize(
    ("heading", "pattern"),
    [
        ("聚焦转型升级，做实企业服务", "6+6"),
        ("强化理论武装", "6"),
        ("贯穿“全面从严”，党的建设全面加强", "6+8"),  # quotes are not counted
        ("压实责任，凝聚合力，强基赋能住建事业高质量发展", "4+4+13"),
    ],
)
def test_heading_pattern(heading: str, pattern: str) -> None:
    assert style.heading_pattern(heading) == pattern


@pytest.mark.parametrize(
    ("sentence", "opener", "verb"),
    [
        ("一是深入推进项目建设，累计完成投资*亿元。", "深入推进", "推进"),
        ("2023年上半年，市住建局坚持以习近平新时代中国特色社会主义思想为指导。", "坚持", "坚持"),
        ("下一步，我们将扎实开展燃气安全专项整治。", "扎实开展", "开展"),
        ("着力打造住建铁军。", "着力", "着力"),
        ("全市新增公共停车泊位*个。", "新增", "新增"),
        ("城镇新增就业*万人。", "", ""),  # a noun subject, not a predicate
    ],
)
def test_sentence_head(sentence: str, opener: str, verb: str) -> None:
    verbs = {"推进", "开展", "打造", "坚持", "新增", "着力"}
    assert style_reading.head(sentence, style_reading.jieba_dict(), verbs) == (opener, verb)


@pytest.mark.parametrize(
    ("sentence", "frame"),
    [
        ("今后，我们将再接再厉，认真总结经验，不断把创建文明城市工作推向新高度。", "…推向新高度"),
        ("汇报完毕，不当之处，请各位领导批评指正，谢谢。", "汇报完毕，不当之处，请…批评指正"),
        ("为建设美丽新宁夏、共圆伟大中国梦而团结奋斗！", "为…而努力奋斗"),
        (
            "奋力谱写中原大地推进中国式现代化新篇章，为强国建设、民族复兴伟业作出新的更大贡献！",
            "为…作出新的更大贡献",
        ),
        ("加大行政处罚力度，切实保证住建领域安全形势稳定可控。", ""),
    ],
)
def test_closing_frame(sentence: str, frame: str) -> None:
    assert style.closing_frame(sentence) == frame


# --------------------------------------------------------------------------------------------
# the seed profile


def test_profile_counts(profile: style.StyleProfile, seed_chunks: list[Chunk]) -> None:
    assert profile.docs == 5
    assert profile.chunks == len(seed_chunks)
    assert profile.fingerprint == "seeds"


def test_enumerations_from_seeds(profile: style.StyleProfile) -> None:
    enums = dict(profile.enumerations)
    # 一是/二是 in four of the five seeds (all but the 文明创建 summary); it is the habit
    assert enums["一是/二是"] == 4
    assert profile.enumerations[0][0] == "一是/二是"


def test_openers_and_verbs_from_seeds(profile: style.StyleProfile) -> None:
    openers = [w for w, _ in profile.openers]
    assert openers[0] == "坚持"
    assert dict(profile.openers)["坚持"] >= 10
    assert {"加快推进", "严格落实", "持续推进"} <= set(openers)  # adverb + verb kept together
    assert not {"主题", "住房", "2023", "我们"} & set(openers)  # subjects and numbers are not openers
    verbs = [w for w, _ in profile.verbs]
    assert "推进" in verbs[:3]
    assert {"落实", "强化", "提升"} <= set(verbs)
    assert all(2 <= len(w) <= 4 for w in verbs)


def test_headings_from_seeds(profile: style.StyleProfile) -> None:
    level1 = dict(profile.headings[1])
    assert level1["6+7"] == 4  # 百分之百决心，上下同欲齐心干 …
    assert level1["4+5"] == 4  # 以学促干，基础在学习 …
    assert level1["6"] == 1  # 工作开展情况
    assert dict(profile.headings[2])["6+8"] == 6  # 贯穿“全面从严”，党的建设全面加强 …
    seed_text = "\n".join(p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt"))
    examples = profile.heading_examples[1]
    assert 3 <= len(examples) <= style_profile.EXAMPLES_PER_LEVEL
    for ex in examples:  # real headings, marker removed
        assert not ex.startswith(("一、", "二、", "三、")), ex
        assert re.search(r"^[一二三四五]、" + re.escape(ex) + r"(?:。|$)", seed_text, re.MULTILINE), ex
    assert "百分之百决心，上下同欲齐心干" in examples
    assert "以学促干，基础在学习" in examples
    assert "贯穿“全面从严”，党的建设全面加强" in profile.heading_examples[2]


def test_lengths_from_seeds(profile: style.StyleProfile) -> None:
    s = profile.sentence_chars
    assert 15 <= s["median"] <= 80
    assert s["p10"] < s["median"] < s["p90"]
    sec = profile.section_chars
    assert 100 <= sec["median"] <= 2000
    assert sec["p10"] < sec["median"] < sec["p90"]


def test_closings_and_person_from_seeds(profile: style.StyleProfile) -> None:
    frames = dict(profile.closings)
    assert frames == {"…推向新高度": 1, "汇报完毕，不当之处，请…批评指正": 1, "书写…新答卷": 1}
    # “民有所呼、我有所应” is a quoted slogan, 我局/我办 are the bureau: no bare 我 in the seeds
    assert profile.first_person["我"] == 0.0
    assert profile.first_person["我们"] == pytest.approx(0.2)


def test_to_json_round_trips(profile: style.StyleProfile) -> None:
    text = json.dumps(profile.to_json(), ensure_ascii=False)
    back = style.StyleProfile.from_json(json.loads(text))
    assert back == profile
    assert json.loads(text)["openers"][0] == ["坚持", dict(profile.openers)["坚持"]]


def test_summary_and_hints(profile: style.StyleProfile) -> None:
    summary = profile.summary_zh()
    assert len(summary.splitlines()) >= 6
    assert CJK.search(summary) and re.search(r"\d", summary)
    assert f"坚持({dict(profile.openers)['坚持']})" in summary
    assert "一是/二是（4篇）" in summary
    assert f"中位数{profile.sentence_chars['median']:.0f}字" in summary
    hints = profile.prompt_hints()
    assert len(hints) <= 300
    assert "一是……二是……三是……" in hints and "坚持" in hints
    assert "百分之百决心" in hints or "站稳政治立场" in hints  # a real level-1 example


def test_empty_corpus() -> None:
    empty = style.build_profile([])
    assert (empty.docs, empty.chunks, empty.openers, empty.sentence_chars) == (0, 0, [], {})
    assert "语料库为空" in empty.summary_zh()
    assert len(empty.prompt_hints()) <= 300
    result = style.conformance("坚持问题导向，扎实开展专项整治。", empty)
    assert result.score == 100.0


def test_build_profile_on_the_whole_corpus() -> None:
    # build time is a benchmark concern, not asserted here (timed tests are flaky on shared machines)
    chunks = _chunks(SEEDS) + _chunks(PUBLIC)
    assert len(chunks) > 3000
    big = style.build_profile(chunks)
    assert big.docs == len({c.doc_id for c in chunks})
    assert "坚持" in [w for w, _ in big.openers[:10]]
    assert dict(big.closings)["为…而努力奋斗"] >= 5  # the government work reports' closing formula


# --------------------------------------------------------------------------------------------
# conformance

GOOD = """（一）聚焦项目建设，投资拉动支撑有力
坚持在项目谋划、申报、推进上聚焦发力，全力推动项目建设提速增效。一是强化要素保障，累计争取上级资金3.2亿元。\
二是健全调度机制，实行周调度、月督查、季排名。三是加快项目建设，12个市级重点项目提前开工。"""

MARKDOWN = """**工作亮点**
- 推进项目建设
- 加强安全管理
- 提升服务水平"""

_LONG = (
    "在全市上下的共同努力下我局围绕年初确定的目标任务紧盯项目谋划申报推进各个环节统筹各方力量协调解决用地资金审批"
    "等方面的困难和问题加强调度督导压实各方责任推动项目建设不断取得新进展新成效并且同步推进城市更新老旧小区改造背街"
    "小巷整治管网改造海绵城市建设等各项重点工作确保按时间节点完成年度目标任务为全市经济社会高质量发展提供了坚实支撑"
    "和有力保障，得到了上级部门和社会各界的充分肯定和高度评价并在全省住建系统工作会议上作了典型发言。"
)
RUN_ON = "（一）项目建设\n" + _LONG * 3

DISORDERED = """（一）党的建设
坚持以党建引领业务工作，扎实开展理论学习。
一、工作开展情况
深入推进项目建设，全力保障民生。"""


def test_good_paragraph_scores_high(profile: style.StyleProfile) -> None:
    good = style.conformance(GOOD, profile)
    assert good.score >= 95, good.notes
    assert good.notes == []
    assert sum(good.parts.values()) == good.score


def test_markdown_list_is_penalised(profile: style.StyleProfile) -> None:
    good = style.conformance(GOOD, profile).score
    md = style.conformance(MARKDOWN, profile)
    assert md.score < good - 20
    notes = "\n".join(md.notes)
    assert "“**”" in notes
    assert "“-”" in notes
    assert "一是……二是……三是……" in notes  # three items listed without the enumeration habit


def test_run_on_sentences_are_penalised(profile: style.StyleProfile) -> None:
    assert len(_LONG) > 200
    good = style.conformance(GOOD, profile).score
    run_on = style.conformance(RUN_ON, profile)
    assert run_on.score < good - 15
    note = next(n for n in run_on.notes if n.startswith("句子偏长"))
    assert f"平均{len(_LONG)}字" in note
    assert f"中位数{profile.sentence_chars['median']:.0f}字" in note


def test_heading_order_is_checked(profile: style.StyleProfile) -> None:
    good = style.conformance(GOOD, profile).score
    bad = style.conformance(DISORDERED, profile)
    assert bad.score < good
    assert any("（一）党的建设" in n and "“一、”" in n for n in bad.notes), bad.notes
    fixed = style.conformance(
        "一、工作开展情况\n（一）党的建设\n坚持以党建引领业务工作，扎实开展理论学习。", profile
    )
    assert not any("标题" in n for n in fixed.notes), fixed.notes


def test_skipped_level_and_numbering(profile: style.StyleProfile) -> None:
    skipped = style.conformance("一、工作开展情况\n1.党的建设\n坚持以党建引领业务工作。", profile)
    assert any("跳级" in n and "（一）" in n for n in skipped.notes), skipped.notes
    gap = style.conformance("（一）党的建设\n坚持党建引领。\n（三）项目建设\n加快推进项目。", profile)
    assert any("不连续" in n and "第2项" in n for n in gap.notes), gap.notes
    half = style.conformance("(一)党的建设\n坚持党建引领。", profile)
    assert any("全角括号" in n for n in half.notes), half.notes


def test_first_person_and_english(profile: style.StyleProfile) -> None:
    text = "我认为项目建设很重要。我局坚持问题导向，推进 smart city 建设。"
    result = style.conformance(text, profile)
    assert any("第一人称“我”1处" in n for n in result.notes), result.notes  # 我局 is fine
    assert any("smart" in n for n in result.notes), result.notes
    assert style.conformance("我局坚持问题导向，扎实开展专项整治。", profile).notes == []


def test_masked_figures_are_not_markdown(profile: style.StyleProfile) -> None:
    text = "坚持民生优先，新增公共停车泊位*.**万个，完成投资**.*亿元。"
    assert not any("**" in n for n in style.conformance(text, profile).notes)


def test_closing_only_for_whole_documents(profile: style.StyleProfile) -> None:
    body = (
        "一、工作开展情况\n坚持以党建引领业务工作，扎实开展理论学习。\n"
        "二、下半年工作计划\n加快推进重点项目，确保按期完工。"
    )
    missing = style.conformance(body, profile)
    assert any("收束语" in n for n in missing.notes), missing.notes
    closed = style.conformance(body + "\n今后，我局将再接再厉，把住建事业推向新高度。", profile)
    assert not any("收束语" in n for n in closed.notes)
    assert closed.score > missing.score
    section = style.conformance(body, profile, whole_document=False)
    assert not any("收束语" in n for n in section.notes)


def test_conformance_to_json(profile: style.StyleProfile) -> None:
    data = json.loads(json.dumps(style.conformance(MARKDOWN, profile).to_json(), ensure_ascii=False))
    assert set(data) >= {"score", "notes"}
    assert 0 <= data["score"] < 100 and data["notes"]


# --------------------------------------------------------------------------------------------
# cached in the store


def test_load_or_build_caches_and_follows_the_corpus(tmp_path: Path, monkeypatch: Any) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(SEEDS, corpus)
    settings = get_settings(store=tmp_path / "store")
    store = CorpusStore(settings)
    ingest([corpus], settings, store=store)

    calls: list[int] = []
    real_build = style.build_profile

    def counting_build(*args: Any, **kwargs: Any) -> style.StyleProfile:
        calls.append(1)
        return real_build(*args, **kwargs)

    monkeypatch.setattr(style_cache, "build_profile", counting_build)

    first = style.load_or_build(store)
    cache = tmp_path / "store" / "style.json"
    assert cache.is_file()
    assert len(calls) == 1
    assert (first.docs, first.chunks) == (5, store.count())
    assert first.fingerprint == store.keyword().fingerprint
    assert json.loads(cache.read_text(encoding="utf-8"))["fingerprint"] == first.fingerprint
    mtime = cache.stat().st_mtime_ns

    second = style.load_or_build(CorpusStore(settings))  # a fresh process would do the same
    assert len(calls) == 1
    assert cache.stat().st_mtime_ns == mtime
    assert second == first

    shutil.copy(PUBLIC / "046.txt", corpus / "046.txt")
    report = ingest([corpus], settings, store=store)
    assert report.added == 1
    third = style.load_or_build(store)
    assert len(calls) == 2
    assert third.fingerprint != first.fingerprint
    assert third.fingerprint == store.keyword().fingerprint
    assert (third.docs, third.chunks) == (6, store.count())
    assert third.chunks > first.chunks
    assert json.loads(cache.read_text(encoding="utf-8"))["fingerprint"] == third.fingerprint

    cache.write_text("{not json", encoding="utf-8")  # a damaged cache is rebuilt, not an error
    os.utime(cache, ns=(0, 0))
    assert style.load_or_build(store) == third
    assert len(calls) == 3

    # the cache reads the store through its public methods: every chunk, or one document's
    ids = store.chunk_ids()
    assert len(ids) == store.count() and set(ids) == {c.chunk_id for c in store.iter_chunks()}
    doc = store.documents()[0]
    own = list(store.iter_chunks({"doc_id": doc.doc_id}))
    assert len(own) == doc.chunks and {c.doc_id for c in own} == {doc.doc_id}


# --------------------------------------------------------------------------------------------
# heading numbering inside one section (the document's numbering is checked across sections)


@pytest.mark.parametrize(
    "text",
    [
        "（二）聚焦城市更新，推动人居环境持续改善\n坚持以人民为中心，扎实推进老旧小区改造。",
        "三、下半年工作打算\n（一）抓好项目建设\n加快推进重点项目。\n（二）守牢安全底线\n深入开展隐患排查。",
        "（三）强化安全监管\n深入开展隐患排查。\n（四）优化营商环境\n持续深化审批改革。",
        "2.完善住房保障体系\n加快发展保障性租赁住房。\n3.稳妥推进棚户区改造\n坚持应改尽改。",
    ],
)
def test_a_section_may_start_at_any_number(profile: style.StyleProfile, text: str) -> None:
    notes = style.conformance(text, profile).notes
    assert not any("序号" in n for n in notes), notes


def test_a_gap_or_repeat_inside_the_text_is_flagged_with_the_whole_heading(
        profile: style.StyleProfile) -> None:
    heading = "（四）持续优化营商环境，推动建筑业转型升级取得新成效"
    gap = style.conformance(f"（二）强化安全监管\n深入开展隐患排查。\n{heading}\n持续深化审批改革。", profile)
    assert f"标题序号不连续：“{heading}”处应为第3项，请按顺序编号" in gap.notes, gap.notes
    repeat = style.conformance("（二）强化安全监管\n深入开展隐患排查。\n（二）"
                               "优化营商环境\n持续深化审批改革。", profile)
    assert any(n.startswith("标题序号重复：“（二）优化营商环境”")
               and "第3项" in n for n in repeat.notes), repeat.notes
    # under a parent heading in the text, the children start at （一）
    child = style.conformance("三、下半年工作打算\n（二）抓好项目建设\n加快推进重点项目。", profile)
    assert any("“（二）抓好项目建设”处应为第1项" in n for n in child.notes), child.notes
    ok = style.conformance("（二）强化安全监管\n深入开展隐患排查。\n（三）优化营商环境\n持续深化审批改革。",
                           profile)
    full = style_score.WEIGHTS["标题层级"]
    assert ok.parts["标题层级"] == full and gap.parts["标题层级"] == full / 2


@pytest.mark.parametrize(
    ("line", "quoted"),
    [
        ("（二）聚焦城市更新，推动人居环境持续改善", "（二）聚焦城市更新，推动人居环境持续改善"),
        ("（二）强化安全监管。全年开展检查120次，排查隐患300处。", "（二）强化安全监管"),
        ("1.住房保障：新开工保障性租赁住房", "1.住房保障"),
        (
            "（三）坚持以人民为中心的发展思想，扎实推进城镇老旧小区改造和完整社区建设，持续改善群众居住条件",
            "（三）坚持以人民为中心的发展思想，扎实推进城镇老旧小区改造和完整社区建设…",
        ),
    ],
)
def test_heading_quote_ends_at_a_natural_end(line: str, quoted: str) -> None:
    assert style_score.heading_quote(line) == quoted


# --------------------------------------------------------------------------------------------
# calibration: a bare list of notes is not a draft (bench/style_calibration.py measures it at scale)


def _real_sections(chunks: list[Chunk], n: int) -> list[str]:
    """The first ``n`` seed sections with 150–1,500 characters of body, heading first."""
    from drafting.headings import heading_level

    seen: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for c in sorted(chunks, key=lambda c: (c.doc_id, c.position)):
        if c.heading_path and heading_level(c.heading_path[-1]):
            seen.setdefault((c.doc_id, tuple(c.heading_path)), []).append(c.text)
    out = []
    for (_d, path), texts in seen.items():
        body = [s.strip() for t in texts for s in t.splitlines() if s.strip()
                and not heading_level(s.strip())]
        if 150 <= sum(map(len, body)) <= 1500:
            out.append(path[-1] + "\n" + "\n".join(body))
    return out[:n]


def _notes_of(section: str) -> tuple[str, list[str]]:
    """A writer's notes for a passage: its heading and its clauses, as the dev cases cut them."""
    heading, _sep, body = section.partition("\n")
    clauses = [c.strip() for c in re.split(r"[，。；！？\n]", body) if len(c.strip()) >= 4]
    return heading, clauses


def test_a_bare_list_scores_well_below_the_real_passage(profile: style.StyleProfile,
                                                        seed_chunks: list[Chunk]) -> None:
    sections = _real_sections(seed_chunks, 8)
    assert len(sections) == 8
    for section in sections:
        real = style.conformance(section, profile)
        heading, notes = _notes_of(section)
        assert len(notes) >= 3
        lists = {
            "lines": heading + "\n" + "\n".join(notes),
            "semicolons": heading + "\n" + "；".join(notes),
            "markdown": heading + "\n" + "\n".join(f"- {n}" for n in notes),
        }
        assert real.score >= 80, (section[:60], real.notes)
        for kind, text in lists.items():
            bare = style.conformance(text, profile)
            assert (bare.score < 60 and bare.score
                < real.score - 25), (kind, bare.score, real.score, bare.notes)
            assert any(n.startswith("正文像要点罗列") for n in bare.notes), bare.notes


@pytest.mark.parametrize(
    ("body", "share"),
    [
        (["坚持问题导向，扎实开展专项整治。完成改造32个。"], 1.0),
        (["推进项目建设", "加强安全管理", "提升服务水平"], 0.0),
        (["推进项目建设；加强安全管理；提升服务水平"], 0.0),
        (["推进项目建设；加强安全管理；提升服务水平。"], 0.0),  # items strung together, then a full stop
        (["一是强化保障，争取资金3.2亿元；二是健全机制，实行周调度；三是加快建设，项目提前开工。"], 1.0),
        (["一是强化保障；二是健全机制；三是加快建设。"], 1.0),  # the house enumeration is prose
        (["- 推进项目建设。", "- 加强安全管理。"], 0.0),
        (["重点做好以下工作：", "坚持项目为王，扎实推进项目建设。"], 1.0),  # a lead-in colon ends a paragraph
        (["坚持项目为王，", "扎实推进项目建设，全年完成投资5亿元。"], 1.0),  # a line ending in ， runs on
        (["坚持项目为王。全年完成投资5亿元", "新开工项目12个"], 7 / 24),
        ([], 1.0),
    ],
)
def test_prose_share(body: list[str], share: float) -> None:
    assert style_score.prose_share(body) == pytest.approx(share)
