"""`python3 dev.py test` and the Home Assistant tests: skipped in one line without their
environment, a failure under CI=true (where .ci/run builds it), and never collected by the
main suite (they import homeassistant)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _dev() -> ModuleType:
    spec = importlib.util.spec_from_file_location("dev_py_hass", ROOT / "dev.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_without_the_environment_the_tests_are_skipped_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = _dev()
    monkeypatch.setattr(dev, "ROOT", tmp_path)  # a checkout without .venv-hass
    monkeypatch.delenv("CI", raising=False)
    assert dev.hass_tests() == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("tests/hass: skipped:")


def test_under_ci_a_missing_environment_is_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = _dev()
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert dev.hass_tests() == 1
    assert "CI=true" in capsys.readouterr().out


def test_the_main_suite_does_not_collect_tests_hass() -> None:
    """Collecting the whole suite (as `dev.py test` does) neither imports nor lists them."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "tests/test_hass_env.py" in done.stdout  # it did collect the suite
    assert "tests/hass/" not in done.stdout
