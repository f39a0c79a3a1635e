"""A whole pack job on a real local Ray runtime over a source with 30% broken samples
(docs/bad-inputs.md, "Policy"): it finishes, nothing is lost, every broken sample has its reason
in the ledger, and nothing is written outside OUT. With `max_bad_fraction` below the share of
invalid samples, the job fails with a message naming the source, the top reasons and examples,
and resumes from its checkpoint once the tolerance is raised."""

from __future__ import annotations

import pytest
from hostile_inputs import BROKEN_FATES, broken_corpus, job_config

from schemas.manifest import MANIFEST_NAME, load_index

N_GOOD = 35


def _config(data, out, max_bad_fraction: float, **sections):
    return job_config([{"name": "web", "format": "jsonl", "path": str(data), "max_bad_fraction": max_bad_fraction}],
                      output={"dir": str(out), "overwrite": True}, **sections)


def _files(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("broken")
    return root, broken_corpus(root, N_GOOD)


def test_job_over_a_30_percent_broken_source_finishes_with_a_reason_for_each(ray_local, corpus, tmp_path):
    from jobs.pipeline import run_job

    root, data = corpus
    assert len(BROKEN_FATES) / (N_GOOD + len(BROKEN_FATES)) == 0.3
    before = _files(root)
    result = run_job(_config(data, tmp_path / "out", 0.5))

    assert (result.out_dir / MANIFEST_NAME).exists()
    ledger = load_index(result.out_dir, "ledger").to_pylist()
    fates = {r["sample_id"]: (r["status"], r["reason"]) for r in ledger}
    assert len(fates) == len(ledger) == N_GOOD + len(BROKEN_FATES)  # every input once, nothing lost
    assert {sid: fates[f"web/{sid}"] for sid in BROKEN_FATES} == BROKEN_FATES
    assert all(fates[f"web/g{i:02d}"] == ("packed", None) for i in range(N_GOOD))
    assert result.manifest.n_samples_packed == N_GOOD
    assert _files(root) == before  # the source directory is only read
    assert {f.split("/")[0] for f in _files(tmp_path)} == {"out"}  # and all output is under OUT


def test_job_above_max_bad_fraction_fails_naming_reasons_and_samples(ray_local, corpus, tmp_path):
    from jobs.pipeline import JobError, run_job

    _, data = corpus
    with pytest.raises(JobError) as err:
        run_job(_config(data, tmp_path / "out", 0.1))
    message = str(err.value)
    n_invalid = sum(status == "invalid" for status, _ in BROKEN_FATES.values())
    assert f"source 'web': {n_invalid} of {N_GOOD + len(BROKEN_FATES)} samples are invalid" in message
    assert "max_bad_fraction 0.1" in message
    assert "probe.truncated ×3" in message  # the most common reason first
    assert "web/" in message.split("e.g.")[1]  # example sample ids
    assert not (tmp_path / "out" / MANIFEST_NAME).exists()

    # the tolerance is not part of the fingerprint: raised, the job resumes from its cached rows
    result = run_job(_config(data, tmp_path / "out", 0.3))
    assert result.stats["stages_run"]["tokens"] == "reused" and result.timings["files_computed"] == 0
    assert result.manifest.n_samples_packed == N_GOOD


def test_sample_ids_repeated_across_files_fail_naming_them(ray_local, tmp_path):
    """Within one file a repeated id is a `read.duplicate_id` row; across two files of a source the
    readers cannot see it, and the ledger key must be unique: the job fails and names the ids."""
    from hostile_inputs import CAPTION, jpeg, write_jsonl

    from jobs.pipeline import JobError, run_job

    src = tmp_path / "src"
    src.mkdir()
    (src / "a.jpg").write_bytes(jpeg())
    write_jsonl(src / "part1.jsonl", [{"id": "shared-7", "image": "a.jpg", "caption": CAPTION},
                                      {"id": "only-1", "image": "a.jpg", "caption": CAPTION}])
    write_jsonl(src / "part2.jsonl", [{"id": "shared-7", "image": "a.jpg", "caption": CAPTION}])
    with pytest.raises(JobError, match=r"sample id 'web/shared-7' occurs in 2 files \(part1.jsonl, part2.jsonl\).*unique"):
        run_job(_config(src, tmp_path / "out", 0.5))


def test_unreadable_file_fails_the_job_naming_it(ray_local, tmp_path):
    """A file no reader can open is not a sample fault: the job stops and the error names it."""
    from hostile_inputs import CAPTION, jpeg, write_tar

    from jobs.pipeline import run_job

    write_tar(tmp_path / "00000.tar", [("k.jpg", jpeg()), ("k.txt", CAPTION.encode())])
    (tmp_path / "00001.tar").write_bytes(b"this is not a tar file" * 50)
    cfg = job_config([{"name": "w", "format": "wds", "path": str(tmp_path)}], output={"dir": str(tmp_path / "out")})
    with pytest.raises(Exception, match=r"source 'w': cannot open tar .*00001.tar"):
        run_job(cfg)
    assert not (tmp_path / "out" / MANIFEST_NAME).exists()
