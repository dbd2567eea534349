"""`python3 dev.py test` and the extra environments: the Home Assistant tests and the
library's tests on Python 3.12 and 3.13 (.ci/pythons.sh) are skipped in one line without
their environment and a failure under CI=true (where .ci/run builds them); tests/hass is
never collected by the main suite (it imports homeassistant); the library test paths
.ci/pythons.sh runs exist."""

from __future__ import annotations

import importlib.util
import re
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


def test_without_the_python_environments_their_tests_are_skipped_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = _dev()
    monkeypatch.setattr(dev, "ROOT", tmp_path)  # a checkout without .venv-py312/.venv-py313
    monkeypatch.delenv("CI", raising=False)
    assert dev.python_versions_tests() == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out == [
        "python 3.12 and 3.13: skipped: no environment (build once: bash .ci/pythons.sh)"
    ]


def test_under_ci_a_missing_python_environment_is_a_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    dev = _dev()
    (tmp_path / ".venv-py312" / "bin").mkdir(parents=True)
    (tmp_path / ".venv-py312" / "bin" / "python").touch()  # 3.13's is missing
    monkeypatch.setattr(dev, "ROOT", tmp_path)
    monkeypatch.setenv("CI", "true")
    assert dev.python_versions_tests() == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("python 3.13: no environment under CI=true")


def test_the_library_tests_the_script_runs_exist() -> None:
    """A renamed test directory would otherwise make pytest fail (or run less) in CI only."""
    script = (ROOT / ".ci" / "pythons.sh").read_text()
    block = script.split("LIBRARY_TESTS=(")[1].split(")")[0]
    paths = re.findall(r"tests/\S+", block)
    assert len(paths) > 10
    assert [p for p in paths if not (ROOT / p).exists()] == []
