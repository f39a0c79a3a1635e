"""trainer_bridge imports only schemas/ (and torch, numpy, pyarrow, pillow): never ray or the packer;
transformers only in trainer_bridge/hf.py, and only when its functions run."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

FORBIDDEN = ("ray", "packer", "jobs", "filters", "torch_npu", "transformers")
BRIDGE = Path(__file__).resolve().parents[2] / "trainer_bridge"


def test_bridge_imports_no_ray_and_no_pipeline_packages():
    code = (
        "import sys, trainer_bridge\n"
        "assert 'torch' not in sys.modules, 'import trainer_bridge must stay light'\n"
        "import trainer_bridge.train, trainer_bridge.dataset, trainer_bridge.loss, trainer_bridge.device\n"
        "import trainer_bridge.hf, trainer_bridge.vit_balance\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_only_the_hf_adapter_imports_transformers():
    importers = []
    for path in sorted(BRIDGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            if any(n.split(".")[0] == "transformers" for n in names):
                importers.append(path.name)
    assert set(importers) == {"hf.py"}
