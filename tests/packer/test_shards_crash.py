"""Crash safety of the shard writer, on real files: a shard is never visible under its final name
until it is complete, a writer that fails or is killed partway leaves nothing there (or the
previous complete shard), and writing again gives the bytes of an uninterrupted write."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from packer.shards import PackPayload, ShardCommitError, file_sha256, tar_bytes, write_shard
from schemas.manifest import PackLayout, SampleLayout

ROOT = Path(__file__).resolve().parents[2]


def _jpeg(seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 255, (32, 48, 3), dtype=np.uint8)).save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _pack(pid: int) -> PackPayload:
    layout = PackLayout(pack_id=pid, step=0, rank=0, micro=pid, seq_len=8, real_tokens=3,
                        samples=[SampleLayout(id=f"s/{pid}", source="s", task="caption", offset=0, length=3,
                                              loss_tokens=1)])
    ids = np.array([1, 2, 3 + pid, 0, 0, 0, 0, 0], np.int32)
    labels = np.array([-100, -100, 3 + pid, -100, -100, -100, -100, -100], np.int32)
    return PackPayload(key=f"pack-{pid:09d}", layout=layout, input_ids=ids, labels=labels,
                       media=[("0.jpg", _jpeg(pid))])


PACKS = [_pack(i) for i in range(4)]


def _interrupted(packs, after: int, action):
    """The packs, with `action()` run once `after` of them have gone to the writer."""
    for i, p in enumerate(packs):
        if i == after:
            action()
        yield p


def test_a_shard_is_not_visible_under_its_final_name_while_it_is_written(tmp_path):
    final = tmp_path / "rank-00000" / "shard-000000.tar"
    seen = []

    def look():  # what a reader listing the directory mid-write finds
        seen.append((final.exists(), sorted(p.name for p in final.parent.iterdir())))

    written = write_shard(final, _interrupted(PACKS, 2, look))
    assert len(seen) == 1
    exists, names = seen[0]
    assert not exists, "a half-written shard was visible under its final name"
    assert len(names) == 1 and names[0].startswith(".shard-000000.tar.tmp-")  # a temp name beside it
    assert sorted(p.name for p in final.parent.iterdir()) == ["shard-000000.tar"]
    assert final.read_bytes() == tar_bytes(PACKS)
    assert written.sha256 == file_sha256(final) and written.bytes == final.stat().st_size and written.n_packs == 4


@pytest.mark.parametrize("error", [RuntimeError("materialising pack 2 failed"),
                                   OSError(28, "No space left on device")])
def test_a_writer_that_raises_partway_leaves_nothing_and_a_rewrite_is_identical(tmp_path, error):
    final = tmp_path / "shard-000000.tar"
    visible = []

    def fail():
        visible.append(final.exists())
        raise error

    with pytest.raises(ShardCommitError if isinstance(error, OSError) else RuntimeError) as info:
        write_shard(final, _interrupted(PACKS, 2, fail))
    assert visible == [False]  # not even while it was failing
    if isinstance(error, OSError):
        assert str(final) in str(info.value)  # the error names the shard
    assert list(tmp_path.iterdir()) == []  # neither the shard nor its temp file
    # resume: the same packs again give the bytes of an uninterrupted write
    again = write_shard(final, PACKS)
    assert final.read_bytes() == tar_bytes(PACKS) and again.sha256 == file_sha256(final)


def test_a_failed_rewrite_keeps_the_previous_complete_shard(tmp_path):
    final = tmp_path / "shard-000000.tar"
    old = write_shard(final, PACKS[:2])
    before = final.read_bytes()

    def fail():
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        write_shard(final, _interrupted(PACKS, 3, fail))
    assert final.read_bytes() == before and file_sha256(final) == old.sha256  # old or new, never partial
    assert sorted(p.name for p in tmp_path.iterdir()) == ["shard-000000.tar"]


def test_a_killed_writer_leaves_nothing_at_the_final_path(tmp_path):
    """A hard death (no exception handler runs: OOM kill, lost node) halfway through a shard."""
    final = tmp_path / "rank-00000" / "shard-000000.tar"
    script = textwrap.dedent(f"""
        import os, sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_shards_crash import PACKS, _interrupted
        from packer.shards import write_shard

        def die():
            sys.stdout.flush()
            os._exit(17)

        write_shard({str(final)!r}, _interrupted(PACKS, 2, die))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    proc = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 17, proc.stderr[-2000:]
    assert not final.exists(), "a killed writer left a partial shard under the final name"
    left = list(final.parent.iterdir())
    assert len(left) == 1 and left[0].name.startswith(".shard-000000.tar.tmp-")  # what a rerun clears
    assert left[0].stat().st_size < len(tar_bytes(PACKS))
    write_shard(final, PACKS)
    assert final.read_bytes() == tar_bytes(PACKS)
