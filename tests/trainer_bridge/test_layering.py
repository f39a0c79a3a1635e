"""trainer_bridge imports only schemas/ (and torch, numpy, pyarrow, pillow): never ray or the packer."""

from __future__ import annotations

import subprocess
import sys

FORBIDDEN = ("ray", "packer", "jobs", "filters", "torch_npu")


def test_bridge_imports_no_ray_and_no_pipeline_packages():
    code = (
        "import sys, trainer_bridge\n"
        "assert 'torch' not in sys.modules, 'import trainer_bridge must stay light'\n"
        "import trainer_bridge.train, trainer_bridge.dataset, trainer_bridge.loss, trainer_bridge.device\n"
        f"bad = [m for m in sys.modules if m.split('.')[0] in {FORBIDDEN!r}]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
