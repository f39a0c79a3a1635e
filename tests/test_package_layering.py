"""The package layering of DESIGN.md, checked on the source: dependencies point down, only jobs/
knows Ray, and importing a package stays light."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("schemas", "filters", "packer", "jobs", "trainer_bridge")
MAY_IMPORT = {
    "schemas": set(),
    "filters": {"schemas", "packer"},
    "packer": {"schemas"},
    "jobs": {"schemas", "filters", "packer"},
    "trainer_bridge": {"schemas"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", PACKAGES)
def test_dependencies_point_down(package):
    bad = []
    for f in sorted((ROOT / package).rglob("*.py")):
        imported = _imports(f)
        for other in set(PACKAGES) - {package} - MAY_IMPORT[package]:
            if other in imported:
                bad.append(f"{f.relative_to(ROOT)} imports {other}")
        if package != "jobs" and "ray" in imported:
            bad.append(f"{f.relative_to(ROOT)} imports ray (only jobs/ knows Ray)")
    assert bad == []


def test_no_grab_bag_modules():
    names = {p.name for pkg in PACKAGES for p in (ROOT / pkg).rglob("*.py")}
    assert not names & {"utils.py", "helpers.py", "misc.py", "common.py"}


def test_package_imports_are_light():
    code = ("import sys, schemas, filters, packer, trainer_bridge, jobs;"
            "print(sorted(m for m in ('ray', 'torch', 'fasttext', 'torch_npu') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
