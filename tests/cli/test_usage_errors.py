"""Issue 18 item 9: bad input is a usage error (exit 2) saying what is wrong, never a bug."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .conftest import enphase


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("read", "http://"), "unsupported gateway address"),
        (("read", "ftp://H"), "unsupported gateway address"),
        (("read", "H:99999"), "invalid port"),
        (("read", "[::1"), "bracket"),
        (("info", "https://"), "unsupported gateway address"),
        (("dump", "127.0.0.1", "/proc/nope"), "cannot write into /proc/nope"),
        (("dump", "127.0.0.1"), "missing DIR"),
        (("raw", "127.0.0.1"), "missing PATH"),
    ],
)
def test_bad_input_exits_2_with_one_line(args: tuple[str, ...], words: str) -> None:
    result = enphase(*args, "--token", "x", "--retries", "0")
    assert result.exit_code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], result.stderr
    assert "bug" not in result.stderr and "Traceback" not in result.stderr
    as_json = enphase(*args, "--token", "x", "--retries", "0", "--json")
    if as_json.exit_code == 2 and as_json.stdout:
        assert json.loads(as_json.stdout)["error"]["kind"] == "usage"


def test_missing_dir_is_not_reported_as_a_missing_host(tmp_path: Path) -> None:
    result = enphase("dump", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "missing DIR" in result.stderr
    assert not (tmp_path / "out").exists()
