"""docs/export-limit.md's evcc recipe, checked with the real programs it runs.

The shell script is taken from the doc as written: ``sh -n`` parses it, its
``jq`` program is run by the real ``jq`` on both shapes of evcc's
``/api/state`` (older evcc wraps it in ``result``), and its ``awk`` sign test
by the real ``awk``. The Home Assistant automation of the same doc is loaded
into a real Home Assistant by tests/hass/test_site_entities.py.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import orjson
import pytest

DOC = Path(__file__).resolve().parents[2] / "docs" / "export-limit.md"


def _script() -> str:
    section = DOC.read_text(encoding="utf-8").split("## Recipe: with evcc")[1]
    return section.split("```sh")[1].split("```")[0]


def _program(tool: str) -> str:
    found = re.search(rf"{tool} (?:-r |-v p=\"\$price\" )'([^']+)'", _script())
    assert found is not None, f"no {tool} program in the evcc recipe"
    return found.group(1)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"no {name} program: install it (.ci/services.sh installs jq)")
    return path


def test_the_script_parses() -> None:
    script = _script().encode()
    done = subprocess.run([_tool("sh"), "-n"], input=script, capture_output=True, check=False)
    assert done.returncode == 0, done.stderr.decode()


@pytest.mark.parametrize(
    ("state", "price"),
    [
        ({"result": {"tariffFeedIn": -0.012, "tariffGrid": 0.05}}, "-0.012"),
        ({"tariffFeedIn": 0.081, "tariffGrid": 0.3}, "0.081"),
        ({"result": {"tariffGrid": 0.3}}, ""),  # no dynamic feed-in tariff: nothing to do
    ],
)
def test_the_jq_path_reads_the_feed_in_tariff(state: dict[str, object], price: str) -> None:
    done = subprocess.run(
        [_tool("jq"), "-r", _program("jq")],
        input=orjson.dumps(state),
        capture_output=True,
        check=True,
        timeout=10,
    )
    assert done.stdout.decode().strip() == price


@pytest.mark.parametrize(
    ("price", "negative"), [("-0.012", True), ("0", False), ("0.081", False), ("-1e-3", True)]
)
def test_the_sign_test_says_zero_export_only_below_zero(price: str, negative: bool) -> None:
    done = subprocess.run(
        [_tool("awk"), "-v", f"p={price}", _program("awk")],
        capture_output=True,
        check=False,
        timeout=10,
    )
    assert (done.returncode == 0) is negative
