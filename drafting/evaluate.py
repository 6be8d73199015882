"""``drafting eval``: draft every case of an eval file and score the drafts (see ../shared/eval/README.md).

An eval that cannot flatter.  Metrics, per case and averaged over **every** case (a case that fails
to draft scores zero on every metric and counts as a loss; it is not dropped):

* ``figure_recall`` – share of the distinct numbers in the bullets that appear in the draft.
* ``unverified_per_draft`` – count of number occurrences in the draft whose value is not in the bullets.
* ``guard_agrees`` – share of drafts in which every such extra number is also flagged ``unverified`` by
  :func:`drafting.guard.check_figures` (a draft without extra numbers agrees).
* ``rougeL`` – character-level ROUGE-L F1 against ``reference`` (whitespace removed), beside three
  baselines: the bullets joined with "；", the bullets joined with "，", and the same engine with
  retrieval switched off (no exemplars, no house phrases).  ``win_rate`` is the share of cases whose
  draft scores above the "，" baseline.
* ``needs_review_rate`` – share of drafts whose status is ``needs_review``.
* ``guard_finding_rate`` – share of drafts with at least one 必查 finding of the fact guard
  (missing, unverified, derived); ``guard_findings`` their total.
* ``malformed`` – drafts with a malformed pattern (:func:`malformed`): a lead-in as an item
  (``一是到2025年。``), doubled verbs (``推进推行``), stray spaces from notes, a last-year value as an
  achievement (``四是上年棚改2845套``), plans phrasing in a 工作总结, a doubled heading number
  (``一、一、``), empty items or doubled punctuation.
* ``provenance`` – where each character of the drafts' bodies came from: bullet (the writer's words),
  computed, phrase (house phrase), template (a 套写 past section), connective, gap; from the engine's
  own account (:class:`drafting.seam.Piece`), with any character it did not account for counted as
  ``unaccounted``.
* ``same_series_cite`` – share of cases with a citation *linked to a paragraph* from the case's own
  issuing body (region), over the cases whose region has other documents in the store.
* ``latency_s_median`` – median wall time of one :func:`drafting.drafter.draft` call, in process.

Numbers are found by a plain digit scan (:func:`numbers`), deliberately not by the guard, so that
``guard_agrees`` is an independent check.  The draft's first line is not scored when it is the
writer's heading echoed back, with or without a heading number (:func:`draft_body`; the same rule for
every engine).  The case's own document is left out of retrieval and citations
(``exclude_doc_ids``); a case whose own document is not in the store is an error, not a pass.
"""

from __future__ import annotations

import json
import re
import statistics
import time
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from drafting.errors import DraftingError, InputError
from drafting.guard import check_figures
from drafting.quantities import digit_runs

BASELINE_JOIN = "；"
COMMA_JOIN = "，"
PLAN_TYPES = ("计划", "要点", "方案", "规划", "安排", "打算")
_HEADING_NO = re.compile(r"^\s*(?:[一二三四五六七八九十]+、|[（(][一二三四五六七八九十]+[)）]|\d+[.．、"
                         r"](?!\d)|[（(]\d+[)）])\s*")
MALFORMED: dict[str, re.Pattern[str]] = {
    "lead_in_item": re.compile(
        r"[一二三四五六七八九十]是(?:(?:到|至|截至)?(?:19|20)\d{2}年(?:底|末)?|(?:根据|按照|依据)[^，。；]{0,40}要求"
        r"|(?:围绕|聚焦)[^，。；]{0,30}(?:目标任务|目标|任务))[。；]"
    ),
    # 加快推进推行…: two work verbs in a row (加快推进, 推进实施 are set phrases, not doubles)
    "doubled_verb": re.compile(r"(?:推进|推动|开展|落实)(?:推进|推行|推动|开展)"),
    "stray_space": re.compile(r"[\u4e00-\u9fff，。；、：（）“”%％\d][ \u3000\t]+[\u4e00-\u9fff，。；、：（）"
                              r"“”\d]"),
    "last_year_item": re.compile(r"(?:^|[。；：]|[一二三四五六七八九十]是)(?:上年|去年)[^，。；比较]{0,"
                                 r"14}\d"),
    "doubled_heading_no": re.compile(r"^(?:[一二三四五六七八九十]+、){2}(?![二三]产业)|"
                                     r"^（[一二三四五六七八九十]+）（"),
    "empty_item": re.compile(r"[一二三四五六七八九十]是[。；]|：。"),
    "doubled_punct": re.compile(r"[，。；、：]{2}"),
}
PLANS_PHRASING = re.compile(r"重点抓好以下工作|重点做好以下工作|下一步，")

__all__ = [
    "CaseResult",
    "EvalReport",
    "baseline_text",
    "draft_body",
    "extra_numbers",
    "figure_recall",
    "guard_agrees",
    "lcs_len",
    "load_cases",
    "numbers",
    "rouge_l",
    "run_eval",
]


# ---- numbers ----------------------------------------------------------------------------------
def numbers(text: str) -> list[tuple[int, int, str]]:
    """(start, end, canonical value) of every digit run in ``text`` (full-width digits too)."""
    return digit_runs(text)


def _values(text: str) -> set[str]:
    return {v for _s, _e, v in numbers(text)}


def figure_recall(bullets: Sequence[str], draft: str) -> float:
    """Share of the distinct bullet numbers found in the draft; 1.0 when the bullets have none."""
    want = _values("\n".join(bullets))
    if not want:
        return 1.0
    return len(want & _values(draft)) / len(want)


def missing_numbers(bullets: Sequence[str], draft: str) -> list[str]:
    return sorted(_values("\n".join(bullets)) - _values(draft))


def extra_numbers(bullets: Sequence[str], draft: str) -> list[tuple[int, int, str]]:
    """Occurrences in the draft (start, end, value) whose value is not among the bullets' numbers."""
    allowed = _values("\n".join(bullets))
    return [n for n in numbers(draft) if n[2] not in allowed]


def guard_agrees(draft: str, provided: str, extras: Sequence[tuple[int, int, str]]) -> bool:
    """True when every extra number overlaps a figure our guard reports as unverified."""
    if not extras:
        return True
    flagged = [
        (f.start, f.end) for f in check_figures(draft, provided).unverified if f.start is not None
        and f.end is not None
    ]
    return all(any(s < fe and fs < e for fs, fe in flagged) for s, e, _v in extras)


# ---- ROUGE-L ------------------------------------------------------------------------------------
def lcs_len(a: str, b: str) -> int:
    """Length of the longest common subsequence (bit-parallel, Hyyrö 2004)."""
    if not a or not b:
        return 0
    if len(a) < len(b):
        a, b = b, a
    masks: dict[str, int] = {}
    for i, ch in enumerate(a):
        masks[ch] = masks.get(ch, 0) | (1 << i)
    full = (1 << len(a)) - 1
    v = full
    for ch in b:
        u = v & masks.get(ch, 0)
        v = ((v + u) | (v - u)) & full
    return len(a) - v.bit_count()


def rouge_l(candidate: str, reference: str) -> float:
    """Character-level ROUGE-L F1 (whitespace ignored)."""
    c = re.sub(r"\s+", "", candidate)
    r = re.sub(r"\s+", "", reference)
    if not c or not r:
        return 0.0
    return 2 * lcs_len(c, r) / (len(c) + len(r))


def baseline_text(bullets: Sequence[str]) -> str:
    return BASELINE_JOIN.join(b.strip() for b in bullets if b.strip())


def comma_text(bullets: Sequence[str]) -> str:
    return COMMA_JOIN.join(b.strip() for b in bullets if b.strip())


def _bare_heading(line: str) -> str:
    return _HEADING_NO.sub("", line.strip()).rstrip("。").strip()


def draft_body(text: str, heading: str) -> tuple[str, bool]:
    """(scored text, whether the first line was the writer's heading echoed back).

    Engine-neutral: the first line counts as the heading when, heading numbers (一、/（一）/1.) taken
    off both, it is the writer's heading; nothing of any engine is imported.
    """
    first, _, rest = text.strip().partition("\n")
    h = _bare_heading(heading)
    if h and _bare_heading(first) == h:
        return rest.strip(), True
    return text.strip(), False


def malformed(text: str, doc_type: str = "工作总结") -> list[str]:
    """The malformed patterns found in a draft (names of :data:`MALFORMED`, plus ``plans_phrasing``)."""
    found = [name for name, rx in MALFORMED.items() if rx.search(text)]
    if "总结" in doc_type and not any(t in doc_type for t in PLAN_TYPES) and PLANS_PHRASING.search(text):
        found.append("plans_phrasing")
    return found


# ---- cases --------------------------------------------------------------------------------------
def load_cases(path: Path) -> list[dict[str, Any]]:
    """Cases from a JSONL file; each needs ``id``, ``heading``, ``bullets`` and ``reference``."""
    if not path.is_file():
        raise InputError(f"找不到评测文件：{path}。请给出 JSONL 文件路径，如 "
                         "../shared/eval/dev-cases.jsonl。")
    out = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            case = json.loads(line)
            if not isinstance(case.get("bullets"), list) or "reference" not in case:
                raise ValueError("missing bullets/reference")
        except (ValueError, AttributeError) as exc:
            raise InputError(
                f"评测文件第{n}行格式不对：每行应是一个 JSON 对象，含 id、heading、bullets（列表）、"
                "reference。"
                "请修正后重试。",
                detail=str(exc),
            ) from exc
        case.setdefault("id", f"line-{n}")
        case.setdefault("heading", "")
        out.append(case)
    if not out:
        raise InputError(f"评测文件是空的：{path}。请每行写一个评测用例。")
    return out


# ---- running --------------------------------------------------------------------------------------
@dataclass
class CaseResult:
    id: str
    doc: str
    region: str
    excluded_doc_id: str | None  # the case's own document in the store, left out (None: not in store)
    text: str = ""
    status: str = ""  # draft status from the guard: ok | needs_review
    error: str = ""  # why this case failed (then it scores zero)
    heading_echoed: bool = False
    figure_recall: float = 0.0
    missing_numbers: list[str] = field(default_factory=list)
    extra_numbers: list[str] = field(default_factory=list)
    guard_agrees: bool = False
    guard_findings: int = 0  # 必查 findings of the fact guard on the draft
    malformed: list[str] = field(default_factory=list)
    provenance: dict[str, int] = field(default_factory=dict)
    rougeL: float = 0.0
    baseline_rougeL: float = 0.0  # bullets joined with "；"
    comma_rougeL: float = 0.0  # bullets joined with "，"
    no_retrieval_rougeL: float | None = None  # the same engine, retrieval off
    no_retrieval_text: str = ""
    same_series_eligible: bool = False
    same_series_cite: bool = False
    cited_doc_ids: list[str] = field(default_factory=list)
    latency_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("figure_recall", "rougeL", "baseline_rougeL", "comma_rougeL"):
            data[k] = round(data[k], 4)
        if self.no_retrieval_rougeL is not None:
            data["no_retrieval_rougeL"] = round(self.no_retrieval_rougeL, 4)
        data["latency_s"] = round(self.latency_s, 4)
        return data


def _mean(xs: Sequence[float]) -> float:
    return round(sum(xs) / len(xs), 4) if xs else 0.0


@dataclass
class EvalReport:
    engine: str
    cases: list[CaseResult]

    def scored(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.error]

    def metrics(self) -> dict[str, Any]:
        """Averages over every case; a failed case counts as zero (and as a loss against the baselines)."""
        allc = self.cases
        s = self.scored()
        elig = [c for c in allc if c.same_series_eligible]
        prov: dict[str, int] = {}
        for c in s:
            for k, v in c.provenance.items():
                prov[k] = prov.get(k, 0) + v
        total = sum(prov.values())
        return {
            "figure_recall": _mean([c.figure_recall for c in allc]),
            "figure_recall_min": round(min((c.figure_recall for c in allc), default=0.0), 4),
            "unverified_per_draft": _mean([float(len(c.extra_numbers)) for c in s]),
            "unverified_max": max((len(c.extra_numbers) for c in s), default=0),
            "guard_agrees": _mean([float(c.guard_agrees) for c in allc]),
            "rougeL": _mean([c.rougeL for c in allc]),
            "win_rate": _mean([float(c.rougeL > c.comma_rougeL) for c in allc]),
            "wins": sum(c.rougeL > c.comma_rougeL for c in allc),
            "needs_review_rate": _mean([float(c.status != "ok") for c in allc]),
            "guard_finding_rate": _mean([float(c.guard_findings > 0) for c in s] + [1.0]
                                        * (len(allc) - len(s))),
            "guard_findings": sum(c.guard_findings for c in s),
            "malformed": sum(bool(c.malformed) for c in s),
            "provenance": prov,
            "provenance_share": {k: round(v / total, 4) for k, v in prov.items()} if total else {},
            "same_series_cite": _mean([float(c.same_series_cite) for c in elig]),
            "same_series_cases": len(elig),
            "latency_s_median": round(statistics.median([c.latency_s for c in s]), 4) if s else 0.0,
            "scored": len(s),
            "failed": len(allc) - len(s),
        }

    def baseline(self) -> dict[str, Any]:
        allc = self.cases
        off = [c for c in allc if c.no_retrieval_rougeL is not None]
        return {
            "text": f"要点用“{BASELINE_JOIN}”连接",
            "rougeL": _mean([c.baseline_rougeL for c in allc]),
            "comma_rougeL": _mean([c.comma_rougeL for c in allc]),
            "semicolon_win_rate": _mean([float(c.baseline_rougeL > c.comma_rougeL) for c in allc]),
            "no_retrieval_rougeL": _mean([c.no_retrieval_rougeL or 0.0 for c in off]) if off else None,
            "no_retrieval_win_rate": _mean([float((c.no_retrieval_rougeL or 0.0) > c.comma_rougeL)
                                            for c in off]) if off else None,
            "figure_recall": 1.0,
            "unverified_per_draft": 0.0,
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "engine": self.engine,
            "cases": len(self.cases),
            "metrics": self.metrics(),
            "baseline": self.baseline(),
            "per_case": [c.to_json() for c in self.cases],
        }

    def table_zh(self) -> str:
        m, b = self.metrics(), self.baseline()
        off = "—" if b["no_retrieval_rougeL"] is None else f"{b['no_retrieval_rougeL']:.3f}"
        off_win = "—" if b["no_retrieval_win_rate"] is None else f"{b['no_retrieval_win_rate']:.3f}"
        rows = [
            ("数字召回率 figure_recall（目标 1.0）",
             f"{m['figure_recall']:.3f}（最低 {m['figure_recall_min']:.3f}）"),
            ("每稿无出处数字 unverified_per_draft（目标 0）",
             f"{m['unverified_per_draft']:.3f}（最多 {m['unverified_max']}）"),
            ("核对器一致率 guard_agrees", f"{m['guard_agrees']:.3f}"),
            ("ROUGE-L（字）", f"{m['rougeL']:.3f}"),
            ("  基线：要点用“；”连接", f"{b['rougeL']:.3f}"),
            ("  基线：要点用“，”连接", f"{b['comma_rougeL']:.3f}"),
            ("  基线：本引擎关闭检索", off),
            ("胜过“，”基线的用例比例（目标 ≥0.6）",
             f"{m['win_rate']:.3f}（{m['wins']}/{len(self.cases)}；关闭检索 {off_win}）"),
            ("需复核稿件比例 needs_review", f"{m['needs_review_rate']:.3f}"),
            ("有核对问题（必查）的稿件比例", f"{m['guard_finding_rate']:.3f}（共 {m['guard_findings']} 处）"),
            ("格式有毛病的稿件数 malformed（目标 0）", f"{m['malformed']}"),
            (f"同系列引用率 same_series_cite（{m['same_series_cases']}例）", f"{m['same_series_cite']:.3f}"),
            ("单稿耗时中位数（秒）", f"{m['latency_s_median']:.3f}"),
        ]
        share = m["provenance_share"]
        if share:
            rows.append(("正文字数来源",
                         "，".join(f"{k} {v:.1%}" for k, v in sorted(share.items(), key=lambda kv: -kv[1]))))
        w0 = max(_width(r[0]) for r in rows)
        lines = [f"评测：{len(self.cases)} 例，已评分 {m['scored']} 例，失败 {m['failed']} 例（失败按 0 "
                 f"分计入平均）。引擎：{self.engine}"]
        lines.append(f"{_pad('指标', w0)}  {self.engine}")
        lines += [f"{_pad(a, w0)}  {x}" for a, x in rows]
        bad = [c.id for c in self.scored() if c.figure_recall < 1.0 or c.extra_numbers]
        if bad:
            lines.append(f"数字未达标的用例（{len(bad)}）：" + "、".join(bad[:20])
                         + ("……" if len(bad) > 20 else ""))
        ugly = [f"{c.id}（{'、'.join(c.malformed)}）" for c in self.scored() if c.malformed]
        if ugly:
            lines.append(f"格式有毛病的用例（{len(ugly)}）：" + "；".join(ugly[:10])
                         + ("……" if len(ugly) > 10 else ""))
        failed = [c for c in self.cases if c.error]
        if failed:
            lines.append(f"起草失败的用例（{len(failed)}）："
                         + "；".join(f"{c.id}：{c.error}" for c in failed[:5]))
        return "\n".join(lines)


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, width: int) -> str:
    return s + " " * max(0, width - _width(s))


def own_doc_ids(store: Any) -> tuple[dict[str, str], dict[str, str]]:
    """({file name: doc_id}, {doc_id: issuer}) for the documents in the store."""
    by_name: dict[str, str] = {}
    issuer: dict[str, str] = {}
    for d in store.documents():
        by_name[Path(d.source).name] = d.doc_id
        issuer[d.doc_id] = d.issuer
    return by_name, issuer


def run_eval(
    cases: Sequence[dict[str, Any]],
    settings: Any,
    *,
    engine_name: str | None = None,
    store: Any = None,
    engine: Any = None,
    progress: Callable[[int, int], None] | None = None,
    ablation: bool = True,
) -> EvalReport:
    """Draft every case with one engine and score it (see the module docstring).

    ``ablation`` also drafts each case with retrieval switched off (the third baseline).
    """
    from drafting.drafter import DraftRequest, draft, get_engine
    from drafting.store import CorpusStore

    store = store or CorpusStore(settings)
    engine = engine or get_engine(settings, engine_name)
    by_name, issuer = own_doc_ids(store)
    doc_types = {d.doc_id: d.doc_type for d in store.documents()}
    docs_of_region: dict[str, set[str]] = {}
    for doc_id, region in issuer.items():
        docs_of_region.setdefault(region, set()).add(doc_id)
    results: list[CaseResult] = []
    for n, case in enumerate(cases):
        own = by_name.get(str(case.get("doc", "")))
        region = str(case.get("region", ""))
        res = CaseResult(id=str(case["id"]), doc=str(case.get("doc", "")), region=region, excluded_doc_id=own)
        res.same_series_eligible = bool(region) and bool(docs_of_region.get(region, set()) - {own})
        bullets = [str(b) for b in case["bullets"]]
        reference = str(case["reference"])
        res.baseline_rougeL = rouge_l(baseline_text(bullets), reference)
        res.comma_rougeL = rouge_l(comma_text(bullets), reference)
        results.append(res)
        if progress:
            progress(n + 1, len(cases))
        if case.get("doc") and own is None:
            res.error = (
                f"本用例的原文档“{case.get('doc')}”不在语料库中，无法把它排除在检索之外，不予评分。"
                "请先导入该文档。"
            )
            continue
        req = DraftRequest(heading=str(case.get("heading", "")), bullets=bullets,
                           doc_type=doc_types.get(own or "", "") or "工作总结")
        t0 = time.perf_counter()
        try:
            out = draft(req, settings, engine=engine, store=store, exclude_doc_ids=[own] if own else [])
        except DraftingError as exc:
            res.error = exc.help_message
            continue
        res.latency_s = time.perf_counter() - t0
        res.text, res.status = out.text, out.status
        body, res.heading_echoed = draft_body(out.text, req.heading)
        res.figure_recall = figure_recall(bullets, body)
        res.missing_numbers = missing_numbers(bullets, body)
        extras = extra_numbers(bullets, body)
        res.extra_numbers = [v for _s, _e, v in extras]
        res.guard_agrees = guard_agrees(body, req.provided_text(), extras)
        res.guard_findings = sum(1 for f in out.figures.findings() if f.severity == "必查")
        res.malformed = malformed(out.text, req.doc_type)
        res.provenance = dict(out.provenance)
        unaccounted = len(re.sub(r"\s+", "", body)) - sum(out.provenance.values())
        if unaccounted:
            res.provenance["unaccounted"] = unaccounted
        res.rougeL = rouge_l(body, reference)
        res.cited_doc_ids = [c.doc_id for c in out.citations if c.paragraphs]
        res.same_series_cite = (res.same_series_eligible
            and any(issuer.get(d) == region for d in res.cited_doc_ids))
        if ablation:
            try:
                off = draft(req, settings, engine=engine, store=store, exclude_doc_ids=[own] if own else [],
                            use_retrieval=False)
                res.no_retrieval_text = off.text
                res.no_retrieval_rougeL = rouge_l(draft_body(off.text, req.heading)[0], reference)
            except DraftingError:
                res.no_retrieval_rougeL = 0.0
    return EvalReport(getattr(engine, "name", engine_name or ""), results)
