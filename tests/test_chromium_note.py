"""The end-of-run note when the browser tests are skipped (tests/chromium_note.py), in a real pytest run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MISSING = (
    "import pytest\n"
    'pytest.skip("Debian chromium is not installed (.ci/run installs it)", allow_module_level=True)\n'
)
OTHER = "import pytest\n\ndef test_x():\n    pytest.skip('no model here')\n"


def _run(tmp_path: Path, source: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_sample.py").write_text(source, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "tests.chromium_note", "-p", "no:cacheprovider",
         "--rootdir", str(tmp_path), str(tmp_path / "test_sample.py")],
        capture_output=True, text=True, timeout=120, check=False, cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_a_chromium_skip_is_named_in_the_summary(tmp_path: Path) -> None:
    proc = _run(tmp_path, MISSING)
    assert proc.returncode == 5, proc.stdout + proc.stderr  # a skipped module: nothing collected
    assert "没有安装 Debian 的 chromium，1 处浏览器测试被跳过" in proc.stdout
    assert "bash .ci/run" in proc.stdout


def test_other_skips_say_nothing_about_the_browser(tmp_path: Path) -> None:
    proc = _run(tmp_path, OTHER)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 skipped" in proc.stdout and "chromium" not in proc.stdout
