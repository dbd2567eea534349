"""docs/CONTRIBUTING.md's layout map is true: every module is listed, nothing listed is gone."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "enphase_local"


def _map_paths() -> set[str]:
    text = (ROOT / "docs" / "CONTRIBUTING.md").read_text()
    block = text.split("<!-- map -->")[1].split("<!-- /map -->")[0]
    paths: set[str] = set()
    stack: list[str] = []
    for line in block.splitlines():
        match = re.match(r"^( *)(\S+)", line)
        if not match or match.group(2).startswith("```") or match.group(2) == "enphase_local/":
            continue
        depth = len(match.group(1)) // 2 - 1
        name = match.group(2)
        del stack[depth:]
        if name.endswith("/"):
            stack.append(name.rstrip("/"))
            paths.add("/".join(stack) + "/")
        else:
            paths.add("/".join([*stack, name]))
    return paths


def _disk_paths() -> set[str]:
    paths: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        rel = path.relative_to(PACKAGE).as_posix()
        if path.name == "__init__.py":
            if rel != "__init__.py":
                paths.add(rel.rpartition("/")[0] + "/")
        else:
            paths.add(rel)
    return paths


def test_the_map_lists_every_module_and_nothing_else() -> None:
    listed, on_disk = _map_paths(), _disk_paths()
    assert sorted(on_disk - listed) == [], "modules missing from docs/CONTRIBUTING.md's map"
    assert sorted(listed - on_disk) == [], "docs/CONTRIBUTING.md's map lists modules that are gone"
