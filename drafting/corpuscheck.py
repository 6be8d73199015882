"""The corpus as a second source of truth: the checks that read the store, beside the fact guard.

:func:`corpus_checks` runs the figure ledger (:mod:`drafting.ledger`: stale, inconsistent, last year's
base) and the policy-citation check (:mod:`drafting.citecheck`) on one text.  It is called wherever
:func:`drafting.drafter.check` is — every draft, refinement, edit and polish — and never changes the
guard's own findings.  A store that cannot be opened is not fatal: the result carries a note saying
the corpus checks did not run.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from drafting.citecheck import CitationFinding, check_citations
from drafting.errors import DraftingError, InputError
from drafting.ledger import LedgerFinding, check_ledger

if TYPE_CHECKING:
    from drafting.settings import Settings
    from drafting.store import CorpusStore

__all__ = ["CorpusChecks", "corpus_checks", "house_issuer"]


@dataclass
class CorpusChecks:
    ledger: list[LedgerFinding] = field(default_factory=list)
    citations: list[CitationFinding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    year: int = 0
    issuer: str = ""

    def _findings(self) -> list[LedgerFinding | CitationFinding]:
        return [*self.ledger, *self.citations]

    @property
    def blocking(self) -> bool:
        return any(f.severity == "必查" for f in self._findings())

    def messages(self) -> list[str]:
        return [f.message for f in self._findings() if f.severity == "必查"]

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": [f.to_json() for f in self.ledger],
            "citations": [f.to_json() for f in self.citations],
            "notes": list(self.notes),
            "year": self.year,
            "issuer": self.issuer,
        }


def house_issuer(store: CorpusStore, settings: Settings) -> str:
    """The bureau whose figures a draft is checked against: ``DRAFTING_LEDGER__ISSUER``, else the issuer
    with the most figures in the ledger (the house's own material, as the style profile assumes)."""
    if settings.ledger.issuer:
        return settings.ledger.issuer
    ledger = store.ledger()
    if ledger.house is None:  # counted once per ledger (corpus state)
        counts = ledger.issuer_counts()
        ledger.house = counts.most_common(1)[0][0] if counts else ""
    return ledger.house


def corpus_checks(
    store: CorpusStore | None,
    settings: Settings,
    text: str,
    provided: str = "",
    pairs: Sequence[tuple[str, float, float, str]] = (),
    *,
    year: int | None = None,
    issuer: str | None = None,
    marks: Iterable[str] = (),
) -> CorpusChecks:
    """Ledger and citation findings for ``text``; a note instead when the store cannot be read."""
    out = CorpusChecks(year=year or settings.ledger.year or date.today().year)
    if not settings.ledger.enabled or not text.strip():
        return out
    if year is not None and not 1900 <= year <= 2200:
        raise InputError(f"年份“{year}”不对。请写四位数的年份，例如 {date.today().year}。")
    try:
        if store is None:
            from drafting.store import CorpusStore

            store = CorpusStore(settings)
        if len(store.keyword()) == 0:
            return out
        out.issuer = issuer if issuer is not None else house_issuer(store, settings)
        out.ledger = check_ledger(
            store.ledger(), text, provided, year=out.year, issuer=out.issuer or None, marks=marks,
            threshold=settings.ledger.match, min_digits=settings.ledger.min_digits, pairs=pairs,
        )
        out.citations = check_citations(store, text)
    except DraftingError as exc:
        out.notes.append(f"语料库暂时打不开，未与往年数字和政策原文核对：{exc.help_message}")
    return out
