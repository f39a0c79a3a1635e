"""An index part changed after the commit (issue 15): `vlpack report` and the trainer bridge refuse
the output in one line naming the part; an intact copy of the same output passes both."""

from __future__ import annotations

import shutil

import pytest
from typer.testing import CliRunner

from demo_output import committed_demo_output
from schemas.manifest import MANIFEST_NAME, Manifest

WIDE = {"COLUMNS": "300", "NO_COLOR": "1"}


@pytest.fixture(scope="module")
def demo_out(ray_local, demo_corpus, tmp_path_factory):
    return committed_demo_output(demo_corpus, tmp_path_factory)


def _copy(demo_out, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(demo_out, out)
    return out, Manifest.model_validate_json((out / MANIFEST_NAME).read_text())


def _flip_a_byte(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


def _report(out):
    from jobs.cli import app

    return CliRunner().invoke(app, ["report", str(out)], env=WIDE)


def _bridge(out, manifest):
    from trainer_bridge.dataset import PackedShardDataset

    return PackedShardDataset(out, 0, manifest.dp_size)


def test_an_intact_copy_passes_the_report_and_the_bridge(demo_out, tmp_path):
    out, manifest = _copy(demo_out, tmp_path)
    res = _report(out)
    assert res.exit_code == 0, res.output
    assert len(list(_bridge(out, manifest))) > 0


@pytest.mark.parametrize("kind", ["packs", "ledger"])
@pytest.mark.parametrize("damage", ["changed", "missing"])
def test_a_changed_or_missing_part_is_refused_by_name(demo_out, tmp_path, kind, damage):
    from trainer_bridge.dataset import ShardFormatError

    out, manifest = _copy(demo_out, tmp_path)
    part = manifest.index_parts[kind][-1].path
    if damage == "changed":
        _flip_a_byte(out / part)
    else:
        (out / part).unlink()
    res = _report(out)
    assert res.exit_code == 2
    lines = [ln for ln in res.output.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and part in lines[0], res.output
    assert ("sha256 does not match" if damage == "changed" else "cannot be read") in lines[0]
    assert not (out / "report" / "report.html").exists() or (out / "report" / "report.html").stat().st_mtime_ns == (
        demo_out / "report" / "report.html").stat().st_mtime_ns
    if kind == "packs":  # the bridge reads the packs index (the ledger is the packer's record, not its input)
        with pytest.raises(ShardFormatError, match=part.replace(".", r"\.")):
            _bridge(out, manifest)
