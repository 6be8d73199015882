"""A small load run through the real stack: the app as a subprocess (users file, ingested corpus/),
5 writers each with their own ``gradio_client.Client`` drafting twice at the same time, offline.

No timing is asserted: only that nothing failed and that every draft the UI reported as saved is in
that writer's own history (and nothing else is). bench/load.py runs the full 20-writer benchmark.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]
pytest.importorskip("gradio_client")


def _bench_load():  # bench/ is not a package: load bench/load.py by path
    spec = importlib.util.spec_from_file_location("bench_load", ROOT / "bench" / "load.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_load"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_five_writers_two_drafts_each_all_saved(tmp_path: Path) -> None:
    load = _bench_load()
    result = load.run_load(engine="offline", writers=5, iterations=2, ops=("draft",), root=tmp_path / "run")
    errors = [f"{op.writer} {op.kind}: {op.error}" for op in result.errors()]
    assert errors == []
    drafts = [op for op in result.ops if op.kind == "draft"]
    assert len(drafts) == 10
    assert all(op.version is not None for op in drafts)
    # every writer's two drafts are in their own history, and only those
    assert result.missing == []
    assert result.saved == {f"writer{i:02d}": 2 for i in range(5)}
    assert len({(op.writer, op.version) for op in drafts}) == 10
    assert result.all_saved()
