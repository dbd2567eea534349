"""The collector configs the docs show are accepted as written, and build their sinks.

Each ``toml`` block of README, docs/service.md, docs/mqtt.md and
docs/many-sites.md that is a collector config (or a ``[sinks.*]`` table of
one) is loaded by `load_config` and its sinks are built by the registry, as
`enphase collect --config` does. Only the folders of the files it names move
to a temporary one (a test cannot write /etc); a fragment without a
``[[gateway]]`` gets one.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from enphase_local.service.config import load_config
from enphase_local.service.sink_registry import build_sinks

ROOT = Path(__file__).resolve().parents[2]
DOCS = ["README.md", "docs/service.md", "docs/mqtt.md", "docs/many-sites.md"]
_FILE_KEYS = re.compile(r'^(\w*_file)\s*=\s*"([^"]+)"', re.MULTILINE)


def _blocks() -> list[tuple[str, str]]:
    found = []
    for name in DOCS:
        text = (ROOT / name).read_text(encoding="utf-8")
        for i, block in enumerate(re.findall(r"```toml\n(.*?)```", text, re.DOTALL)):
            if "[sinks." in block or "[collect]" in block or "[[gateway]]" in block:
                found.append((f"{name}#{i + 1}", block))
    return found


@pytest.mark.parametrize(("where", "block"), _blocks(), ids=[w for w, _ in _blocks()])
def test_a_documented_config_loads_and_builds_its_sinks(
    where: str, block: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for folder in ("/etc/enphase-local/", "/var/lib/enphase-local/"):
        block = block.replace(folder, f"{tmp_path}/")
    for key, path in _FILE_KEYS.findall(block):
        if key != "ca_file" and path.startswith(str(tmp_path)):
            Path(path).write_text("a-token-of-enough-length-0123456789\n")
    if "[[gateway]]" not in block:
        block += '\n[[gateway]]\nhost = "192.168.1.50"\n'
    monkeypatch.setenv("ENPHASE_MQTT_PASSWORD", "mqtt-secret")
    monkeypatch.setenv("ENPHASE_PG_DSN", "postgresql://enphase@127.0.0.1/enphase")
    config_file = tmp_path / "collect.toml"
    config_file.write_text(block)
    config = load_config(config_file)
    sinks = build_sinks(config.sinks)
    assert sorted(s.name for s in sinks) == sorted(config.sinks), where
