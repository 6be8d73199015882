"""The package root exports a deliberate API (httpx's test_exported_members.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import drafting


def test_every_exported_name_resolves_to_its_module_object() -> None:
    for name in drafting.__all__:
        obj = getattr(drafting, name)
        home = importlib.import_module(drafting._EXPORTS[name])
        assert obj is getattr(home, name), name


def test_unknown_names_raise_attribute_error() -> None:
    with pytest.raises(AttributeError):
        drafting.no_such_thing  # noqa: B018


def test_importing_the_package_is_cheap() -> None:
    code = (
        "import sys, drafting; print(sorted(m for m in ('chromadb', 'gradio', 'jieba') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_all_matches_the_export_table() -> None:
    assert sorted(drafting.__all__) == sorted(drafting._EXPORTS)
