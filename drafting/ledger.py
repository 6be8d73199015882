"""The figure ledger: every figure the bureau has published, as a fact, and the checks it allows.

At ingest every figure of every chunk becomes a :class:`LedgerFact` (indicator, value, unit,
qualifiers, period, the document and passage it came from), read by the one lexer
(:mod:`drafting.quantities`) and the fact module (:mod:`drafting.facts`); ``*`` masks are not
figures there, so they never enter the ledger.  Like the keyword index the ledger is *derived* from
Chroma: it records the fingerprint of the chunk ids it was built from, lives under
``<store>/ledger/`` in a fresh folder per build with an atomic ``CURRENT`` pointer, and
:meth:`drafting.store.CorpusStore.ledger` rebuilds it (re-reading only chunks it has not seen)
whenever the fingerprint differs — so it survives a kill -9 and follows every ingest or removal.

A fact's period is the year of its document (``上年`` in its clause: the year before) plus a
sub-period (上半年, 一季度 … or the whole year).  Indicators are matched within one issuer across
wording variants (棚户区改造 / 城镇棚户区改造 / 棚改): :func:`drafting.facts.similarity`, or a
short name whose characters stand in order, not contiguously, in the long one (an abbreviation).

:func:`check_ledger` runs beside the fact guard on every draft, refinement and polish:

* ``stale`` — a draft figure equals last period's value of the same indicator and the writer did not
  give it;
* ``inconsistent`` — an issued document holds another value for the same indicator and period;
* ``base`` — the writer gave only this period's value, the ledger holds last period's: a suggestion
  比上年增长 X% (computed exactly, shown with its source, never inserted).

A writer's 口径不同 mark (:func:`mark_key`, kept in history) silences one pair for good.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import sqlite3
import threading
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from drafting.errors import StoreError
from drafting.facts import _PERIOD_RE, _PERIODS, _clause_start, facts_of, informative, similarity
from drafting.keyword import current_generation
from drafting.quantities import Figure, digit_runs, extract_dates, extract_figures
from drafting.records import Chunk

__all__ = [
    "Ledger",
    "LedgerFact",
    "LedgerFinding",
    "check_ledger",
    "facts_of_text",
    "indicator_match",
    "mark_key",
]

_SUB_PERIODS = {"上半年", "下半年", "一季度", "二季度", "三季度", "四季度", "前三季度"}
_SENTENCE_STOP = "。；;！？!?\n"
PASSAGE_CHARS = 120
FORMAT = 3  # 3: SQLite; 2: facts.jsonl in a generation folder (read once, then removed)


@dataclass(slots=True)  # no per-fact __dict__: a check materialises thousands
class LedgerFact:
    indicator: str
    value: float
    unit: str
    raw: str
    qualifiers: list[str]
    direction: str
    period: str  # sub-period (上半年, 一季度 …) or "" for the whole year
    year: int
    target: bool  # 力争 / 预计 / 计划: a target, not an outcome
    doc_id: str = ""
    title: str = ""
    issuer: str = ""
    chunk_id: str = ""
    heading: str = ""
    passage: str = ""
    high: float | None = None
    start: int | None = None  # in the text it was read from (a draft); not kept in the store
    end: int | None = None
    last: bool = False  # said to be last year's (上年2845套, 上年同期为2845套)

    def to_json(self) -> dict[str, Any]:
        return {
            k: v for k, v in asdict(self).items()
            if v not in (None, "", []) and k not in ("start", "end", "last")}

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> LedgerFact:
        return cls(**{"qualifiers": [], "direction": "", "period": "", **d})

    @property
    def label(self) -> str:
        return f"{self.year}年{self.period}" if self.year else self.period


def _sentence(text: str, start: int, end: int) -> str:
    lo = _clause_start(text, start, _SENTENCE_STOP)
    his = [i for i in (text.find(ch, end) for ch in _SENTENCE_STOP) if i >= 0]
    hi = min(his) + 1 if his else len(text)
    s = text[lo:hi].strip()
    if len(s) > PASSAGE_CHARS:
        a = max(0, start - lo - PASSAGE_CHARS // 2)
        s = ("…" if a else "") + s[a : a + PASSAGE_CHARS] + "…"
    return s


def _sentence_period(text: str, start: int, notes: bool) -> str:
    """The sub-period named earlier in the figure's sentence (今年上半年，全市完成…3300套)."""
    stops = _SENTENCE_STOP.replace("\n", "") if notes else _SENTENCE_STOP
    lo = _clause_start(text, start, stops)
    found = [_PERIODS.get(m.group(), "") for m in _PERIOD_RE.finditer(text[lo:start])]
    found = [p for p in found if p in _SUB_PERIODS]
    return found[-1] if found else ""


def facts_of_text(
    text: str, *, year: int, notes: bool = False, keep_passage: bool = True, shift: bool = True,
    period: str = "",
    figures: Sequence[Figure] | None = None,
) -> list[LedgerFact]:
    """The ledger facts of one text: figures with a unit and an informative indicator.

    ``shift``: a figure said to be last year's (上年, 去年) gets the year before.  A stored document is
    read without it: its figures are keyed by the document's year, the way the series of one kind of
    document runs (a 政府工作报告 of 2004 reports 2003, with or without 去年 in the sentence).
    A figure with no sub-period in its clause takes the one named earlier in its sentence, else
    ``period`` (a document's: 上半年 for a 上半年工作总结).
    """
    figs = list(figures) if figures is not None else extract_figures(text)
    out = []
    for f in facts_of(text, figs, notes=notes):
        fig = f.figure
        if not fig.unit or not informative(f.indicator) or fig.start is None or fig.end is None:
            continue
        out.append(
            LedgerFact(
                indicator=f.indicator,
                value=fig.value,
                unit=fig.unit,
                raw=fig.raw,
                qualifiers=sorted(f.qualifiers - {"TARGET"}),
                direction=f.direction,
                period=f.period if f.period in _SUB_PERIODS else (
                    "" if f.period else _sentence_period(text, fig.start, notes) or period
                ),
                year=year - 1 if shift and f.period == "上年" and year else year,
                target="TARGET" in f.qualifiers,
                passage=_sentence(text, fig.start, fig.end) if keep_passage else "",
                high=fig.high,
                start=fig.start,
                end=fig.end,
                last=f.period == "上年" or (f.base == "上年" and not f.direction),
            )
        )
    return out


def _abbreviates(short: str, long: str) -> bool:
    """``short`` is ``long`` abbreviated: its characters stand in order, not side by side, within a
    stretch of ``long`` at most three times as long (棚改 in 实施棚户区改造; not 投资 in 固定资产投资)."""
    if len(short) < 2 or short in long:
        return False
    best = None
    for i, ch in enumerate(long):
        if ch != short[0]:
            continue
        pos, ok = i, True
        for c in short[1:]:
            pos = long.find(c, pos + 1)
            if pos < 0:
                ok = False
                break
        if ok:
            span = pos - i + 1
            best = span if best is None else min(best, span)
    return best is not None and best <= 3 * len(short)


@lru_cache(maxsize=1 << 16)
def indicator_match(a: str, b: str, threshold: float = 0.6) -> float:
    """0 when two indicators name different things, else a score in (threshold, 1]."""
    if a == b:
        return 1.0
    s = similarity(a, b)
    if s >= threshold:
        return s
    short, long = (a, b) if len(a) <= len(b) else (b, a)
    # an abbreviation: 棚改 for 棚户区改造 (in order, not a contiguous word such as 投资 in 固定资产投资)
    if _abbreviates(short, long):
        return threshold
    return 0.0


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _digits(raw: str, unit: str = "") -> int:
    """Significant digits as written: 3200套 has 4 (a count is exact), 100% has 1, 76.9% has 3."""
    runs = [v.replace(".", "").lstrip("0") for _s, _e, v in digit_runs(raw)]
    if unit == "%":
        runs = [r.rstrip("0") for r in runs]
    return max((len(r) for r in runs), default=0)


def _dated_before(text: str, start: int, year: int) -> bool:
    """The sentence names a year before last year ahead of the figure (2016年全市…): a dated figure."""
    lo = _clause_start(text, start, _SENTENCE_STOP)
    return any(m.year is not None and m.year < year - 1 for m in extract_dates(text[lo:start]))


_BOUNDS = {"MORE", "LESS", "NEAR"}
# a figure written as a thing's attribute: 700万吨露天煤矿, 年产5000辆罐式车 (not 3200套，同比… / 84万亩、)
_ATTRIBUTE_AFTER = re.compile(r"[\u4e00-\u9fff](?<![以左上下余多和与及的增同比较占为是其到至])")
_THRESHOLD_AFTER = re.compile(r"(?:以上|以下|及以上|及以下)?的?(?:项目|企业|工程|规模)|以上的|以下的")


def _comparable(d: LedgerFact, g: LedgerFact) -> bool:
    return (
        d.unit == g.unit and d.period == g.period and d.target == g.target and d.direction == g.direction
        and _BOUNDS.intersection(d.qualifiers) == _BOUNDS.intersection(g.qualifiers)
    )


def mark_key(finding: LedgerFinding | dict[str, Any]) -> str:
    """The pair a 口径不同 mark silences: the draft's value against one published fact."""
    d = finding.to_json() if isinstance(finding, LedgerFinding) else finding
    src = d.get("source") or {}
    return (f"{d.get('kind')}|{src.get('doc_id', '')}|{src.get('indicator', '')}|"
            f"{src.get('value')}{src.get('unit', '')}|{d.get('value')}")


@dataclass
class LedgerFinding:
    """One ledger check: ``stale`` / ``inconsistent`` (必查) or ``base`` (a suggestion, never inserted)."""

    kind: str
    message: str
    raw: str  # the draft's figure (for ``base``: the writer's)
    value: float
    start: int | None
    end: int | None
    source: LedgerFact
    suggestion: str = ""
    others: list[LedgerFact] = field(default_factory=list)

    @property
    def severity(self) -> str:
        return "建议" if self.kind == "base" else "必查"

    @property
    def key(self) -> str:
        return mark_key(self)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "severity": self.severity,
            "message": self.message,
            "text": self.raw,
            "value": self.value,
            "start": self.start,
            "end": self.end,
            "suggestion": self.suggestion,
            "source": self.source.to_json(),
        }


_DB_FILE = "facts.sqlite3"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (id TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS facts (
    chunk_id TEXT NOT NULL, indicator TEXT NOT NULL, value REAL NOT NULL, unit TEXT NOT NULL,
    raw TEXT NOT NULL, qualifiers TEXT NOT NULL, direction TEXT NOT NULL, period TEXT NOT NULL,
    year INTEGER NOT NULL, target INTEGER NOT NULL, doc_id TEXT NOT NULL, title TEXT NOT NULL,
    issuer TEXT NOT NULL, heading TEXT NOT NULL, passage TEXT NOT NULL, high REAL);
CREATE INDEX IF NOT EXISTS facts_chunk ON facts (chunk_id);
DROP INDEX IF EXISTS facts_key;
CREATE INDEX IF NOT EXISTS facts_lookup ON facts (unit, year, period, direction, target, issuer, indicator);
CREATE INDEX IF NOT EXISTS facts_indicator ON facts (indicator);
"""
_COLUMNS = ("chunk_id", "indicator", "value", "unit", "raw", "qualifiers", "direction", "period", "year",
            "target", "doc_id", "title", "issuer", "heading", "passage", "high")
_SELECT = "SELECT " + ", ".join(_COLUMNS) + " FROM facts"
_QSEP = "\x1f"  # between qualifiers in one column


def _row(cid: str, f: LedgerFact) -> tuple[Any, ...]:
    return (cid, f.indicator, f.value, f.unit, f.raw, _QSEP.join(f.qualifiers), f.direction, f.period, f.year,
            int(f.target), f.doc_id, f.title, f.issuer, f.heading, f.passage, f.high)


def _fact(row: Sequence[Any]) -> LedgerFact:
    (cid, indicator, value, unit, raw, quals, direction, period, year, target, doc_id, title, issuer,
     heading, passage, high) = row
    return LedgerFact(indicator=indicator, value=value, unit=unit, raw=raw,
                      qualifiers=quals.split(_QSEP) if quals else [], direction=direction, period=period,
                      year=year, target=bool(target), doc_id=doc_id, title=title, issuer=issuer,
                      chunk_id=cid, heading=heading, passage=passage, high=high)


class Ledger:
    """The published facts, kept in SQLite (``<store>/ledger/facts.sqlite3``) and read per query.

    Nothing but the connection lives in memory: at 100× the facts held as objects were about 0.6 GiB
    (docs/benchmarks.md).  The table ``chunks`` lists every chunk read (with or without facts), so a
    sync reads only chunks it has not seen; ``meta`` holds the fingerprint of the collection's chunk
    ids the ledger matches.  A sync is one transaction: a kill -9 leaves the last complete ledger.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.house: str | None = None  # the issuer drafts are checked against, once known (per corpus)
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._conn = sqlite3.connect(str(path), timeout=60, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise StoreError(detail=f"数字台账打不开：{exc}") from exc
        with self._db():
            self._conn.executescript(_SCHEMA)
            if self._meta("format") is None:
                self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('format', ?)", (str(FORMAT),))

    @contextmanager
    def _db(self) -> Iterator[None]:
        """One thread at a time on the connection; a database error becomes a :class:`StoreError` with
        advice (a full disk, a read-only folder), never a raw sqlite3 error."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as exc:
                raise StoreError(detail=f"数字台账读写失败：{exc}") from exc

    @classmethod
    def load(cls, folder: Path) -> Ledger | None:
        """The saved ledger, or None when there is none or it cannot be read (the caller rebuilds)."""
        path = folder / _DB_FILE
        if not path.exists():
            return None
        try:
            ledger = cls(path)
            if ledger._meta("format") != str(FORMAT):
                ledger.close()
                return None
            with ledger._lock:
                ledger._conn.execute("SELECT count(*) FROM chunks").fetchone()
            return ledger
        except (sqlite3.Error, StoreError):
            return None

    @classmethod
    def open(cls, folder: Path) -> Ledger:
        """The saved ledger, or an empty one in its place (an unreadable file is replaced)."""
        found = cls.load(folder)
        if found is not None:
            return found
        path = folder / _DB_FILE
        for p in (path, path.with_name(_DB_FILE + "-journal"), path.with_name(_DB_FILE + "-wal")):
            p.unlink(missing_ok=True)
        ledger = cls(path)
        ledger._adopt_generation(folder)
        return ledger

    def _adopt_generation(self, folder: Path) -> None:
        """Take over a ledger the previous release saved (format 2: ``gen-*/facts.jsonl`` behind
        ``CURRENT``), streamed a few thousand chunks at a time, then remove it; one that cannot be read
        is removed too, and the sync re-reads its chunks from Chroma."""
        try:
            gen = current_generation(folder)
            meta = json.loads((gen / "meta.json").read_text(encoding="utf-8"))
            if meta.get("format") == 2:
                with self._db(), self._conn, open(gen / "facts.jsonl", encoding="utf-8") as fh:
                    self._conn.execute("BEGIN")
                    part: dict[str, list[LedgerFact]] = {}
                    for line in fh:
                        row = json.loads(line)
                        part[row["id"]] = [LedgerFact.from_json(f) for f in row["facts"]]
                        if len(part) >= 2000:
                            self._replace(part)
                            part = {}
                    self._replace(part)
                    self._write_fingerprint(meta["fingerprint"])
        except (OSError, ValueError, KeyError, TypeError):
            pass  # nothing to adopt, or unreadable: the sync reads the chunks from Chroma
        for old in [*folder.glob("gen-*"), folder / "CURRENT"]:
            if old.is_dir():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.unlink(missing_ok=True)

    def close(self) -> None:
        with self._db():
            self._conn.close()

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _write_fingerprint(self, fp: str) -> None:
        """Inside the caller's transaction: the collection state the facts now match ("" = unknown)."""
        self._conn.execute("INSERT OR REPLACE INTO meta VALUES ('fingerprint', ?)", (fp,))

    @property
    def fingerprint(self) -> str:
        with self._db():
            return self._meta("fingerprint") or ""

    def __len__(self) -> int:
        with self._db():
            return int(self._conn.execute("SELECT count(*) FROM facts").fetchone()[0])

    def _query(self, sql: str, params: Sequence[Any] = ()) -> list[LedgerFact]:
        with self._db():
            rows = self._conn.execute(sql, params).fetchall()
        return [_fact(r) for r in rows]

    # ---- writing -----------------------------------------------------------------------------
    def stage(self, by_chunk: dict[str, list[LedgerFact]]) -> None:
        """Record the facts of chunks just read (an ingest's batch), replacing what those chunks had,
        so an ingest holds none of them in memory; :meth:`sync` then decides what the ledger matches."""
        if not by_chunk:
            return
        with self._db(), self._conn:
            self._conn.execute("BEGIN")
            self._replace(by_chunk)
            # staged chunks may never reach the collection (a failed write): the next sync compares
            # every chunk id instead of trusting the fingerprint
            self._write_fingerprint("")

    def _replace(self, by_chunk: dict[str, list[LedgerFact]]) -> None:
        ids = [(cid,) for cid in by_chunk]
        self._conn.executemany("DELETE FROM facts WHERE chunk_id = ?", ids)
        self._conn.executemany("INSERT OR IGNORE INTO chunks VALUES (?)", ids)
        self._conn.executemany(
            f"INSERT INTO facts VALUES ({', '.join('?' * len(_COLUMNS))})",
            [_row(cid, f) for cid, fs in by_chunk.items() for f in fs])

    def sync(
        self, ids: Sequence[str], fp: str,
        read: Callable[[list[str]], dict[str, list[LedgerFact]]], batch: int = 2000,
    ) -> None:
        """Make the ledger hold exactly the chunks ``ids`` (fingerprint ``fp``): drop chunks no longer
        in the collection, read the facts of chunks not seen yet (``read``), in one transaction."""
        if self.fingerprint == fp:
            return
        self.house = None  # counted again for the new corpus
        with self._db():
            seen = {r[0] for r in self._conn.execute("SELECT id FROM chunks")}
        wanted = set(ids)
        gone = [(cid,) for cid in seen - wanted]
        missing = [cid for cid in ids if cid not in seen]
        del seen, wanted
        with self._db(), self._conn:
            self._conn.execute("BEGIN")
            self._conn.executemany("DELETE FROM facts WHERE chunk_id = ?", gone)
            self._conn.executemany("DELETE FROM chunks WHERE id = ?", gone)
            for start in range(0, len(missing), batch):
                part = missing[start : start + batch]
                found = read(part)
                self._replace({cid: found.get(cid, []) for cid in part})
            self._write_fingerprint(fp)

    # ---- queries -----------------------------------------------------------------------------
    def iter_facts(self, issuer: str | None = None) -> Iterator[LedgerFact]:
        """Every fact (of one issuer), in the order read, a page at a time."""
        last = 0
        where = "rowid > ?" + (" AND issuer = ?" if issuer else "")
        while True:
            with self._db():
                rows = self._conn.execute(
                    f"SELECT rowid, {', '.join(_COLUMNS)} FROM facts WHERE {where} ORDER BY rowid LIMIT 5000",
                    (last, issuer) if issuer else (last,)).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            yield from (_fact(r[1:]) for r in rows)

    def chunk_ids(self) -> list[str]:
        """The chunks that hold at least one fact."""
        with self._db():
            return [r[0] for r in self._conn.execute("SELECT DISTINCT chunk_id FROM facts ORDER BY rowid")]

    def issuer_counts(self) -> Counter[str]:
        with self._db():
            rows = self._conn.execute("SELECT issuer, count(*) FROM facts WHERE issuer != '' GROUP BY issuer")
            return Counter(dict(rows.fetchall()))

    def candidates(
        self, like: LedgerFact, year: int, names: Sequence[str], exclude: Iterable[str] = (),
        issuer: str | None = None,
    ) -> list[LedgerFact]:
        """Facts of ``year`` named one of ``names`` with ``like``'s unit, sub-period, direction and target
        flag (what :func:`_comparable` asks too), of one issuer, not of the documents ``exclude``."""
        where, params = self._where(like, year, issuer)
        ex = set(exclude)
        return [f for f in self._named(names, where, params) if f.doc_id not in ex]

    def indicators(self, like: LedgerFact, year: int, issuer: str | None = None) -> list[str]:
        """The distinct indicators among the facts :meth:`candidates` reads (from the index alone)."""
        where, params = self._where(like, year, issuer)
        with self._db():
            rows = self._conn.execute(f"SELECT DISTINCT indicator FROM facts WHERE {where}", params)
            return [r[0] for r in rows]

    @staticmethod
    def _where(like: LedgerFact, year: int, issuer: str | None) -> tuple[str, list[Any]]:
        where = "unit = ? AND year = ? AND period = ? AND direction = ? AND target = ?"
        params: list[Any] = [like.unit, year, like.period, like.direction, int(like.target)]
        if issuer is not None:
            where += " AND issuer = ?"
            params.append(issuer)
        return where, params

    def _named(self, names: Sequence[str], where: str, params: list[Any]) -> list[LedgerFact]:
        """The facts matching ``where`` whose indicator is one of ``names``, in the order read."""
        out: list[LedgerFact] = []
        for start in range(0, len(names), 500):  # under SQLite's limit on bound parameters
            part = list(names[start : start + 500])
            sql = f"{_SELECT} WHERE {where} AND indicator IN ({', '.join('?' * len(part))}) ORDER BY rowid"
            out += self._query(sql, params + part)
        return out

    def empty(self) -> bool:
        with self._db():
            return self._conn.execute("SELECT 1 FROM facts LIMIT 1").fetchone() is None

    def series(
        self, indicator: str, issuer: str | None = None, threshold: float = 0.6
    ) -> dict[str, list[LedgerFact]]:
        """Every issuer's values of ``indicator`` (and its wording variants) over time, oldest first."""
        with self._db():
            names = [r[0] for r in self._conn.execute(
                "SELECT DISTINCT indicator FROM facts" + (" WHERE issuer = ?" if issuer else ""),
                (issuer,) if issuer else ())]
        matched = [n for n in names if indicator_match(indicator, n, threshold)]
        out: dict[str, list[LedgerFact]] = defaultdict(list)
        for f in self._named(matched, "issuer = ?" if issuer else "1", [issuer] if issuer else []):
            out[f.issuer].append(f)
        for fs in out.values():
            fs.sort(key=lambda f: (f.year, f.period, f.target, f.direction, f.doc_id))
        return dict(sorted(out.items(), key=lambda kv: -len(kv[1])))

    def issuers(self) -> list[str]:
        with self._db():
            rows = self._conn.execute("SELECT DISTINCT issuer FROM facts WHERE issuer != ''").fetchall()
        return sorted(r[0] for r in rows)


def _best(
    d: LedgerFact, ledger: Ledger, year: int, exclude: Sequence[str], issuer: str | None, threshold: float,
) -> list[LedgerFact]:
    """The ledger's facts of ``year`` that name the same thing as ``d``, best-named only (the caller keeps
    them to one issuer: indicators are grouped within an issuer).  The indicators are matched first, on
    the distinct names the index holds; only facts with a matching name are read."""
    names = [n for n in ledger.indicators(d, year, issuer) if indicator_match(d.indicator, n, threshold)]
    if not names:
        return []
    pool = ledger.candidates(d, year, names, exclude, issuer)
    scored = [(indicator_match(d.indicator, g.indicator, threshold), g) for g in pool if _comparable(d, g)]
    scored = [(s, g) for s, g in scored if s]
    if not scored:
        return []
    top = max(s for s, _ in scored)
    return [g for s, g in scored if s >= top - 1e-9]


def _growth(cur: float, prev: float) -> Decimal | None:
    if prev == 0:
        return None
    rate = (Decimal(repr(cur)) - Decimal(repr(prev))) / Decimal(repr(prev)) * 100
    return rate.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def _doc(title: str) -> str:
    t = title.strip()
    return t if t.startswith("《") else f"《{t}》"


def check_ledger(
    ledger: Ledger | None,
    text: str,
    provided: str = "",
    *,
    year: int | None = None,
    issuer: str | None = None,
    exclude_doc_ids: Sequence[str] = (),
    marks: Iterable[str] = (),
    threshold: float = 0.6,
    min_digits: int = 2,
    pairs: Sequence[tuple[str, float, float, str]] = (),
) -> list[LedgerFinding]:
    """Stale, inconsistent and last-year's-base findings for ``text`` (a draft of period ``year``)."""
    if ledger is None or not text.strip() or ledger.empty():
        return []
    year = year or date.today().year
    silenced = set(marks)
    given = facts_of_text(provided, year=year, notes=True, keep_passage=False) if provided.strip() else []
    given_values = {(round(g.value, 9), g.unit) for g in extract_figures(provided)}
    out: list[LedgerFinding] = []
    drafted = facts_of_text(text, year=year, shift=False)
    for d in drafted:
        pos = (d.start, d.end)
        # the draft's figures are keyed by its year, as the store's are; a figure said to be last year's
        # beside this year's value of the same thing (完成3200套，上年2845套) is a base, not a stale figure
        comparison = d.last and any(
            o is not d and not o.last and o.passage == d.passage and indicator_match(o.indicator, d.indicator)
            for o in drafted
        )
        this_year = _best(d, ledger, year, exclude_doc_ids, issuer, threshold)
        if any(_close(g.value, d.value) for g in this_year):
            continue  # as published
        stale = None if comparison else _stale(
            ledger, d, text, year, issuer, exclude_doc_ids, threshold, min_digits, given_values
        )
        if stale is not None:
            if stale.key not in silenced:
                out.append(stale)
            continue
        # inconsistent: an issued document of this period says otherwise
        # (unambiguously: one value per document)
        per_doc: dict[str, set[float]] = defaultdict(set)
        for g in this_year:
            per_doc[g.doc_id].add(round(g.value, 9))
        clear = [g for g in this_year if len(per_doc[g.doc_id]) == 1]
        if clear:
            g = clear[0]
            f = LedgerFinding(
                "inconsistent",
                f"本期同一指标在{_doc(g.title)}中是{g.raw}，这里写的是{d.raw}，口径是否一致？出处：“{g.passage}”",
                d.raw, d.value, pos[0], pos[1], g, others=clear[1:],
            )
            if f.key not in silenced:
                out.append(f)
            continue
    out += _base_suggestions(
        ledger, given, given_values, year, issuer, exclude_doc_ids, silenced, threshold, pairs)
    return out


def _stale(
    ledger: Ledger, d: LedgerFact, text: str, year: int, issuer: str | None, exclude: Sequence[str],
    threshold: float, min_digits: int, given_values: set[tuple[float, str]],
) -> LedgerFinding | None:
    """A ``stale`` finding when ``d`` repeats last period's value of its indicator, else None."""
    if _digits(d.raw, d.unit) < min_digits or (round(d.value, 9), d.unit) in given_values:
        return None
    if _BOUNDS.intersection(d.qualifiers) and _digits(d.raw.rstrip("0"), "%") < 3:
        return None  # 突破1000亿元, 140亿斤以上: a round bound, a target more than a result
    if d.start is not None and _dated_before(text, d.start, year):
        return None
    if d.end is not None and (_THRESHOLD_AFTER.match(text, d.end) or _ATTRIBUTE_AFTER.match(text, d.end)):
        return None  # 投资3000万元以上的项目, 700万吨露天煤矿: a class or size of a project, not a result
    last_year = [g for g in _best(d, ledger, year - 1, exclude, issuer, threshold)
                 if _close(g.value, d.value)]
    if not last_year:
        return None
    if any(_close(g.value, d.value)
           for g in _best(d, ledger, year - 2, exclude, issuer, threshold)):
        return None  # the same value two years running: a project's size (700万吨露天矿), not a yearly result
    g = last_year[0]
    return LedgerFinding(
        "stale",
        f"与{_doc(g.title)}中同一指标的数字相同，是否沿用了去年的数字？出处：“{g.passage}”",
        d.raw, d.value, d.start, d.end, g,
    )


def _base_suggestions(
    ledger: Ledger, given: list[LedgerFact], given_values: set[tuple[float, str]], year: int,
    issuer: str | None, exclude: Sequence[str], silenced: set[str], threshold: float,
    pairs: Sequence[tuple[str, float, float, str]],
) -> list[LedgerFinding]:
    out: list[LedgerFinding] = []
    for p in given:
        if p.direction or p.unit in ("%", "个百分点") or p.last:
            continue
        if any(
            q is not p and (q.direction or q.last) and indicator_match(p.indicator, q.indicator, threshold)
            for q in given
        ):
            continue  # the writer gave a rate or last year's value already
        if any(indicator_match(p.indicator, name, threshold) for name, *_ in pairs):
            continue
        prev = _best(p, ledger, year - 1, exclude, issuer, threshold)
        values = {round(g.value, 9) for g in prev}
        if len(values) != 1:
            continue  # nothing, or the ledger itself is not clear
        if (round(prev[0].value, 9), prev[0].unit) in given_values:
            continue  # the writer's notes hold last year's value already
        g = prev[0]
        rate = _growth(p.value, g.value)
        if rate is None:
            continue
        word = "增长" if rate >= 0 else "下降"
        suggestion = f"比上年{word}{abs(rate)}%"
        f = LedgerFinding(
            "base",
            f"{p.indicator}上年为{g.raw}（{_doc(g.title)}），可写“{suggestion}”（{p.raw}与{g.raw}算得），请核对后自行决定是否采用。",
            p.raw, p.value, None, None, g, suggestion=suggestion,
        )
        if f.key not in silenced:
            out.append(f)
    return out


def title_period(title: str) -> str:
    """The sub-period a document's title names (市住建局2023年上半年工作总结 → 上半年), else ""."""
    found = [_PERIODS.get(m.group(), "") for m in _PERIOD_RE.finditer(title or "")]
    found = [p for p in found if p in _SUB_PERIODS]
    return found[0] if found else ""


def chunk_facts(chunk: Chunk) -> list[LedgerFact]:
    """The ledger facts of one stored chunk, with its document and passage."""
    from drafting.figures import figures_of_chunk

    facts = facts_of_text(chunk.text, year=chunk.year, shift=False, period=title_period(chunk.title),
                          figures=figures_of_chunk(chunk.text))
    heading = " › ".join(chunk.heading_path)
    for f in facts:
        f.doc_id, f.title, f.issuer, f.chunk_id, f.heading = (
            chunk.doc_id, chunk.title, chunk.issuer, chunk.chunk_id, heading)
        f.start = f.end = None
    return facts
