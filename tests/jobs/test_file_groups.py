"""Small files staged in groups (`jobs.file_stages.file_groups`): a row stage's fixed cost per batch
is paid per group of about GROUP_BYTES, not per small file. Groups never change a row or an output
byte, never span sources, stay bounded, keep large files alone under their own key, and move only
where files change (one changed, added or removed file changes its own group and at most its
neighbours)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import pytest

from jobs import file_stages
from jobs.file_stages import GROUP_BYTES, MAX_GROUP_BYTES, MIN_FILE_BYTES, file_groups, file_key
from jobs.inputs import InputFile
from schemas.config import parse_job_config

CFG = parse_job_config({
    "sources": [{"name": n, "format": "jsonl", "path": f"/data/{n}", "task": "text"} for n in ("a", "b")],
    "output": {"dir": "/tmp/unused"}})


def _files(n: int, seed: int) -> list[InputFile]:
    """A listing like a real corpus: mostly small metadata files (1 KiB - 2 MiB, some empty), some
    of several MiB, a few large, split over two sources."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        r = rng.random()
        size = (0 if r < 0.03 else rng.randint(1 << 10, 2 << 20) if r < 0.85
                else rng.randint(2 << 20, 7 << 20) if r < 0.95 else rng.randint(8 << 20, 200 << 20))
        source = "a" if i < n * 0.6 else "b"
        out.append(InputFile(source=source, path=f"/data/{source}/part-{i:05d}.jsonl", rel=f"part-{i:05d}.jsonl",
                             size=size, digest=f"stat:{size}:{i}"))
    return out


def _weight(f: InputFile) -> int:
    return max(f.size, MIN_FILE_BYTES)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_groups_cover_every_file_in_order_within_one_source_and_the_bound(seed):
    files = _files(3000, seed)
    groups = file_groups(CFG, files)
    assert [i for g in groups for i in g.members] == list(range(len(files)))
    for g in groups:
        members = [files[i] for i in g.members]
        assert len({f.source for f in members}) == 1
        if any(f.size >= GROUP_BYTES for f in members):  # a large file stands alone, under its own key
            assert len(members) == 1 and g.key == file_key(CFG, members[0])
        else:
            assert sum(_weight(f) for f in members) <= MAX_GROUP_BYTES
    small = [g for g in groups if len(g.members) > 1]
    sizes = [sum(_weight(files[i]) for i in g.members) for g in small]
    # the small files gather: groups of about GROUP_BYTES (no group of small files is left tiny on average)
    assert len(small) > 20 and GROUP_BYTES / 3 < sum(sizes) / len(sizes) < 2 * GROUP_BYTES
    assert len({g.key for g in groups}) == len(groups)


def _keys(files: list[InputFile]) -> list[str]:
    return [g.key for g in file_groups(CFG, files)]


def _resync_at(files: list[InputFile], start: int) -> int:
    """The first file from `start` on after which every grouping ends whatever came before: one that
    ends a group by its own draw, a file of GROUP_BYTES or more, or the last of its source."""
    from jobs.file_stages import _ends_group

    for j in range(start, len(files)):
        if (files[j].size >= GROUP_BYTES or _ends_group(files[j]) or j + 1 == len(files)
                or files[j + 1].source != files[j].source):
            return j
    return len(files) - 1


def _check_change(files: list[InputFile], i: int, kind: str, size: int) -> None:
    f = files[i]
    after = {"changed": files[:i] + [replace(f, size=size, digest="stat:changed")] + files[i + 1:],
             "added": files[:i] + [replace(f, rel=f.rel + ".new", path=f.path + ".new", size=size,
                                           digest="stat:new")] + files[i:],
             "removed": files[:i] + files[i + 1:]}[kind]
    groups = file_groups(CFG, files)
    own = next(k for k, g in enumerate(groups) if i in g.members)
    resync = _resync_at(files, i if kind == "added" else i + 1)
    last = next(k for k, g in enumerate(groups) if resync in g.members)
    now = set(_keys(after))
    gone = [k for k, g in enumerate(groups) if g.key not in now]
    # its own group and the one before it, and from there on only up to where groupings meet again
    # (the next group when the file's own group ends by a draw; further only when a run of small
    # files was cut by MAX_GROUP_BYTES, whose cut moves with the bytes before it)
    assert set(gone) <= set(range(own - 1, last + 1)), (kind, i, own, last, gone)


@pytest.mark.parametrize("seed", range(12))
def test_a_changed_added_or_removed_file_changes_groups_only_until_the_groupings_meet_again(seed):
    rng = random.Random(100 + seed)
    files = _files(600, seed)
    for _ in range(10):
        i = rng.randrange(len(files))
        for kind in ("changed", "added", "removed"):
            _check_change(files, i, kind, rng.randint(0, 7 << 20))


def test_a_change_that_moves_a_cut_at_max_group_bytes_reaches_only_until_the_next_drawn_end():
    """A found case (a reviewer's): the change ends its group's draw no more, the merged run passes
    MAX_GROUP_BYTES and is cut elsewhere, which moves the group after the next too."""
    files = _files(600, 288)
    i = next(k for k, f in enumerate(files) if f.rel == "part-00500.jsonl")
    _check_change(files, i, "changed", 856576)
    groups = file_groups(CFG, files)
    own = next(k for k, g in enumerate(groups) if i in g.members)
    after = files[:i] + [replace(files[i], size=856576, digest="stat:changed")] + files[i + 1:]
    now = set(_keys(after))
    assert [k for k, g in enumerate(groups) if g.key not in now] == [own, own + 1, own + 2]


def _write_jsonl(path: Path, prefix: str, n: int) -> None:
    subjects = ["A brown dog runs along the beach", "Two children play in a green park",
                "An old man reads a newspaper on a bench", "A red car parked near the river"]
    with path.open("w") as fh:
        for k in range(n):
            fh.write(json.dumps({"id": f"{prefix}{k}", "messages": [
                {"role": "user", "content": "Describe the scene."},
                {"role": "assistant", "content": f"{subjects[k % 4]} number {prefix}{k}."}]}) + "\n")


def _job(data: Path, out: Path):
    return parse_job_config({
        "sources": [{"name": "t", "format": "jsonl", "path": str(data), "task": "text"}],
        "pack": {"context_length": 2048, "dp_size": 1, "micro_batch": 1, "grad_accum": 1},
        "dedup": {"enabled": False}, "output": {"dir": str(out), "overwrite": True}})


def _digest(root: Path) -> dict:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and not {"report", ".vlpack"} & set(p.relative_to(root).parts) and p.name != "job.yaml"}


def _inputs(data: Path) -> list[InputFile]:
    from jobs.inputs import input_files

    return input_files(_job(data, data.parent / "unused"))


def test_grouped_files_give_the_output_of_files_staged_alone_and_rerun_only_their_group(
        ray_local, tmp_path, monkeypatch):
    from jobs.pipeline import run_job

    data = tmp_path / "data"
    data.mkdir()
    for k in range(12):
        _write_jsonl(data / f"part-{k:02d}.jsonl", f"f{k}-", 5 + k)
    assert len(file_groups(_job(data, tmp_path), _inputs(data))) == 1  # twelve small files: one task
    grouped = run_job(_job(data, tmp_path / "grouped"))
    with monkeypatch.context() as m:
        m.setattr(file_stages, "GROUP_BYTES", 1)  # every file alone
        assert len(file_groups(_job(data, tmp_path), _inputs(data))) == 12
        alone = run_job(_job(data, tmp_path / "alone"))
    a, b = _digest(grouped.out_dir), _digest(alone.out_dir)
    assert a.keys() == b.keys() and [k for k in a if a[k] != b[k]] == []

    # groups of about four files; then one file changes: its group is read again, the other groups
    # are reused (split back into their files), and the output is that of a fresh run
    monkeypatch.setattr(file_stages, "GROUP_BYTES", 4 * MIN_FILE_BYTES)
    monkeypatch.setattr(file_stages, "MAX_GROUP_BYTES", 16 * MIN_FILE_BYTES)
    before = file_groups(_job(data, tmp_path), _inputs(data))
    assert 2 <= len(before) < 12
    first = run_job(_job(data, tmp_path / "small-groups"))
    assert first.timings["files_computed"] == 12
    with (data / "part-05.jsonl").open("a") as fh:
        fh.write(json.dumps({"id": "f5-new", "messages": [
            {"role": "user", "content": "Describe the scene."},
            {"role": "assistant", "content": "A white horse stands in the snow at dawn."}]}) + "\n")
    files = _inputs(data)
    after = file_groups(_job(data, tmp_path), files)
    own = next(g for g in after if any(files[i].rel == "part-05.jsonl" for i in g.members))
    assert [g.members for g in after] == [g.members for g in before]  # the size did not move an end here
    again = run_job(_job(data, tmp_path / "small-groups"))
    assert (again.timings["files_computed"], again.timings["files_reused"]) == (len(own.members), 12 - len(own.members))
    fresh = run_job(_job(data, tmp_path / "fresh"), force=True)
    a, b = _digest(again.out_dir), _digest(fresh.out_dir)
    assert [k for k in a.keys() | b.keys() if a.get(k) != b.get(k)] == []

    # a new file repeats an id of a file in a reused group: the reused group's rows are split back
    # into their files, so the error names both files
    from jobs.pipeline import JobError

    _write_jsonl(data / "part-99.jsonl", "f2-", 1)
    with pytest.raises(JobError, match=r"part-02\.jsonl.*part-99\.jsonl"):
        run_job(_job(data, tmp_path / "small-groups"))



def test_a_group_checkpoint_is_reused_only_when_its_row_counts_split_it(tmp_path):
    """The sidecar's per-file row counts must add up to the checkpoint's rows (its Parquet footer),
    one count per file, all integers; otherwise the group is computed again (never split wrongly)."""
    import pyarrow as pa

    from jobs.file_stages import FileGroup, group_rows, reusable
    from jobs.stage_cache import StageCache, commit_file_result

    cache = StageCache(tmp_path, max_bytes=1 << 30)
    (tmp_path / "files").mkdir()
    group = FileGroup(members=(0, 1, 2), key="k" * 24)
    path = cache.file_path(group.key)
    commit_file_result(str(path), pa.table({"x": list(range(7))}), rows=[3, 0, 4])
    assert group_rows(cache, group, path) == [3, 0, 4] and reusable(cache, group)
    side = path.with_suffix(".json")
    good = json.loads(side.read_text())
    for rows in ([3, 0, 2], [3, 4], [3, None, 4], [3, -1, 5], "7", None):
        side.write_text(json.dumps({**good, "rows": rows}))
        assert group_rows(cache, group, path) is None and not reusable(cache, group), rows
    assert not reusable(cache, FileGroup(members=(0, 1), key="m" * 24))  # no checkpoint at all
