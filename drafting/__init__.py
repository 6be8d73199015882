"""拟稿助手: retrieval-augmented drafting for 住建 report writers.

The public API, importable from the package root.  Names load lazily, so ``import drafting`` stays
cheap (the CLI and the UI import only what a command needs)::

    from drafting import get_settings, draft, DraftRequest, check

The functions named like their modules (``ingest``, ``search``, ``polish``) are imported from the
module, because Python binds a submodule's name on the package when it loads:
``from drafting.ingest import ingest``.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS: dict[str, str] = {
    # settings and errors
    "Settings": "drafting.settings",
    "get_settings": "drafting.settings",
    "DraftingError": "drafting.errors",
    # corpus
    "IngestReport": "drafting.ingest",
    "CorpusStore": "drafting.store",
    "Filters": "drafting.search",
    # drafting
    "DraftRequest": "drafting.drafter",
    "DraftResult": "drafting.drafter",
    "FigureRow": "drafting.drafter",
    "draft": "drafting.drafter",
    "refine": "drafting.drafter",
    "check": "drafting.drafter",
    "PolishResult": "drafting.polish",
    "apply_suggestions": "drafting.polish",
    # checks and style
    "check_figures": "drafting.guard",
    "check_terms": "drafting.terms",
    "StyleProfile": "drafting.style_profile",
}

__all__ = [  # grouped as above, not sorted
    "Settings",
    "get_settings",
    "DraftingError",
    "IngestReport",
    "CorpusStore",
    "Filters",
    "DraftRequest",
    "DraftResult",
    "FigureRow",
    "draft",
    "refine",
    "check",
    "PolishResult",
    "apply_suggestions",
    "check_figures",
    "check_terms",
    "StyleProfile",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'drafting' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
