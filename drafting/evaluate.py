"""``drafting eval``: draft every case of an eval file and score the drafts (see ../shared/eval/README.md).

Metrics, per case and averaged:

* ``figure_recall`` – share of the distinct numbers in the bullets that appear in the draft.
* ``unverified_per_draft`` – count of number occurrences in the draft whose value is not in the bullets.
* ``guard_agrees`` – share of drafts in which every such extra number is also flagged ``unverified`` by
  :func:`drafting.guard.check_figures` (a draft without extra numbers agrees).
* ``rougeL`` – character-level ROUGE-L F1 against ``reference`` (whitespace removed), beside the
  baseline: the bullets joined with "；".
* ``same_series_cite`` – share of cases with a citation from the case's own issuing body (region),
  over the cases whose region has other documents in the store.
* ``latency_s_median`` – median wall time of one :func:`drafting.drafter.draft` call, in process.

Numbers are found by a plain regex over digits (:data:`NUMBER`), deliberately not by the guard, so
that ``guard_agrees`` is an independent check.  The draft's first line is not scored when it is the
writer's own heading echoed back (it is input, not drafted text, and the reference has no heading).
The case's own document is left out of retrieval and citations (``exclude_doc_ids``).
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
    flagged = [(f.start, f.end) for f in check_figures(draft, provided).unverified if f.start is not None]
    return all(any(s < fe and fs < e for fs, fe in flagged) for s, e, _v in extras)  # type: ignore[operator]


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


def draft_body(text: str, heading: str) -> tuple[str, bool]:
    """(scored text, whether the first line was the writer's heading echoed back)."""
    from drafting.offline import house_heading

    first, _, rest = text.strip().partition("\n")
    h = heading.strip().rstrip("。")
    if h and first.strip() in {h, house_heading(h)}:
        return rest.strip(), True
    return text.strip(), False


# ---- cases --------------------------------------------------------------------------------------
def load_cases(path: Path) -> list[dict[str, Any]]:
    """Cases from a JSONL file; each needs ``id``, ``heading``, ``bullets`` and ``reference``."""
    if not path.is_file():
        raise InputError(f"找不到评测文件：{path}。请给出 JSONL 文件路径，如 ../shared/eval/dev-cases.jsonl。")
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
                f"评测文件第{n}行格式不对：每行应是一个 JSON 对象，含 id、heading、bullets（列表）、reference。"
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
    error: str = ""  # engine failure for this case (then it is not scored)
    heading_echoed: bool = False
    figure_recall: float = 0.0
    missing_numbers: list[str] = field(default_factory=list)
    extra_numbers: list[str] = field(default_factory=list)
    guard_agrees: bool = True
    rougeL: float = 0.0
    baseline_rougeL: float = 0.0
    same_series_eligible: bool = False
    same_series_cite: bool = False
    cited_doc_ids: list[str] = field(default_factory=list)
    latency_s: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for k in ("figure_recall", "rougeL", "baseline_rougeL"):
            data[k] = round(data[k], 4)
        data["latency_s"] = round(self.latency_s, 4)
        return data


@dataclass
class EvalReport:
    engine: str
    cases: list[CaseResult]

    def scored(self) -> list[CaseResult]:
        return [c for c in self.cases if not c.error]

    def metrics(self) -> dict[str, Any]:
        s = self.scored()
        elig = [c for c in s if c.same_series_eligible]

        def mean(xs: list[float]) -> float:
            return round(sum(xs) / len(xs), 4) if xs else 0.0

        return {
            "figure_recall": mean([c.figure_recall for c in s]),
            "figure_recall_min": round(min((c.figure_recall for c in s), default=0.0), 4),
            "unverified_per_draft": mean([float(len(c.extra_numbers)) for c in s]),
            "unverified_max": max((len(c.extra_numbers) for c in s), default=0),
            "guard_agrees": mean([float(c.guard_agrees) for c in s]),
            "rougeL": mean([c.rougeL for c in s]),
            "same_series_cite": mean([float(c.same_series_cite) for c in elig]),
            "same_series_cases": len(elig),
            "latency_s_median": round(statistics.median([c.latency_s for c in s]), 4) if s else 0.0,
            "scored": len(s),
            "failed": len(self.cases) - len(s),
        }

    def baseline(self) -> dict[str, Any]:
        s = self.scored()
        return {
            "text": f"要点用“{BASELINE_JOIN}”连接",
            "rougeL": round(sum(c.baseline_rougeL for c in s) / len(s), 4) if s else 0.0,
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
        rows = [
            ("数字召回率 figure_recall（目标 1.0）", f"{m['figure_recall']:.3f}（最低 {m['figure_recall_min']:.3f}）",
             f"{b['figure_recall']:.3f}"),
            ("每稿无出处数字 unverified_per_draft（目标 0）", f"{m['unverified_per_draft']:.3f}（最多 {m['unverified_max']}）",
             f"{b['unverified_per_draft']:.3f}"),
            ("核对器一致率 guard_agrees", f"{m['guard_agrees']:.3f}", "—"),
            ("ROUGE-L（字）", f"{m['rougeL']:.3f}", f"{b['rougeL']:.3f}"),
            (f"同系列引用率 same_series_cite（{m['same_series_cases']}例）", f"{m['same_series_cite']:.3f}", "—"),
            ("单稿耗时中位数（秒）", f"{m['latency_s_median']:.3f}", "—"),
        ]
        w0 = max(_width(r[0]) for r in rows)
        w1 = max(max(_width(r[1]) for r in rows), _width(self.engine))
        lines = [f"评测：{len(self.cases)} 例，已评分 {m['scored']} 例，失败 {m['failed']} 例。引擎：{self.engine}"]
        lines.append(f"{_pad('指标', w0)}  {_pad(self.engine, w1)}  基线（要点直接拼接）")
        lines += [f"{_pad(a, w0)}  {_pad(x, w1)}  {y}" for a, x, y in rows]
        bad = [c.id for c in self.scored() if c.figure_recall < 1.0 or c.extra_numbers]
        if bad:
            lines.append(f"数字未达标的用例（{len(bad)}）：" + "、".join(bad[:20]) + ("……" if len(bad) > 20 else ""))
        failed = [c for c in self.cases if c.error]
        if failed:
            lines.append(f"起草失败的用例（{len(failed)}）：{failed[0].id}：{failed[0].error}")
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
) -> EvalReport:
    """Draft every case with one engine and score it (see the module docstring)."""
    from drafting.drafter import DraftRequest, draft, get_engine
    from drafting.store import CorpusStore

    store = store or CorpusStore(settings)
    engine = engine or get_engine(settings, engine_name)
    by_name, issuer = own_doc_ids(store)
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
        req = DraftRequest(heading=str(case.get("heading", "")), bullets=bullets)
        t0 = time.perf_counter()
        try:
            out = draft(req, settings, engine=engine, store=store, exclude_doc_ids=[own] if own else [])
        except DraftingError as exc:
            res.error = exc.help_message
            results.append(res)
            continue
        res.latency_s = time.perf_counter() - t0
        res.text, res.status = out.text, out.status
        body, res.heading_echoed = draft_body(out.text, req.heading)
        res.figure_recall = figure_recall(bullets, body)
        res.missing_numbers = missing_numbers(bullets, body)
        extras = extra_numbers(bullets, body)
        res.extra_numbers = [v for _s, _e, v in extras]
        res.guard_agrees = guard_agrees(body, req.provided_text(), extras)
        res.rougeL = rouge_l(body, str(case["reference"]))
        res.baseline_rougeL = rouge_l(baseline_text(bullets), str(case["reference"]))
        res.cited_doc_ids = [c.doc_id for c in out.citations]
        res.same_series_cite = res.same_series_eligible and any(issuer.get(d) == region for d in res.cited_doc_ids)
        results.append(res)
        if progress:
            progress(n + 1, len(cases))
    return EvalReport(getattr(engine, "name", engine_name or ""), results)
