"""Hostile and broken tar shards (docs/bad-inputs.md, "Archives and paths"). The reader never
extracts anything: captions are read in memory and images addressed by offset, so no member
name can write or read outside the shard, and every member is accounted for in a row."""

from __future__ import annotations

import io
import os
import tarfile

import pytest
from hostile_inputs import CAPTION, fate, jpeg, job_config, write_tar

from jobs.readers import SourceFileError, read_wds
from schemas.config import SourceConfig


def _pair(key: str) -> list[tuple[str, bytes]]:
    return [(f"{key}.jpg", jpeg()), (f"{key}.txt", CAPTION.encode())]


def _wds(path) -> dict:
    return {"name": "w", "format": "wds", "path": str(path)}


def _tree(root) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize("name", ["../evil.jpg", "../../etc/cron.d/x.txt", "a/../../b.txt", "/abs.jpg", "/etc/x.txt",
                                  "\\windows.txt"])
def test_member_with_dotdot_or_absolute_name_is_a_row_and_never_touches_the_disk(tmp_path, name):
    shard = tmp_path / "shards"
    shard.mkdir()
    write_tar(shard / "00000.tar", _pair("ok") + [(name, b"payload")])
    before = _tree(tmp_path)
    ledger = fate(job_config([_wds(shard)]))
    assert ledger == {"w/00000/ok": ("packed", None), f"w/00000/{name}": ("invalid", "read.unsafe_member_name")}
    assert _tree(tmp_path) == before  # nothing written next to the shard (or anywhere under tmp_path)


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.FIFOTYPE],
                         ids=["symlink", "hardlink", "char-device", "fifo"])
def test_link_or_device_member_poisons_its_sample(tmp_path, kind):
    link = tarfile.TarInfo("k.jpg")
    link.type = kind
    link.linkname = "/etc/passwd"
    write_tar(tmp_path / "00000.tar", _pair("ok") + [link, ("k.txt", CAPTION.encode())])
    ledger = fate(job_config([_wds(tmp_path)]))
    assert ledger == {"w/00000/ok": ("packed", None), "w/00000/k": ("invalid", "read.unsafe_member_type")}


def test_non_utf8_member_name_is_a_row(tmp_path):
    path = tmp_path / "00000.tar"
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT, encoding="latin-1") as tar:
        for name, data in _pair("ok") + [("caf\xe9.txt", CAPTION.encode())]:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    ledger = fate(job_config([_wds(tmp_path)]))
    assert ledger["w/00000/ok"] == ("packed", None)
    (bad,) = [k for k in ledger if k != "w/00000/ok"]
    assert ledger[bad] == ("invalid", "read.bad_member_name") and "\\x" in bad


def test_duplicate_key_within_a_shard_is_invalid(tmp_path):
    write_tar(tmp_path / "00000.tar", _pair("ok") + _pair("k") + [("k.txt", b"a second caption for the same key")])
    assert fate(job_config([_wds(tmp_path)])) == {"w/00000/ok": ("packed", None),
                                                  "w/00000/k": ("invalid", "read.duplicate_key")}


def test_same_key_in_two_shards_gives_two_samples(tmp_path):
    write_tar(tmp_path / "00000.tar", _pair("k"))
    write_tar(tmp_path / "00001.tar", _pair("k"))
    assert fate(job_config([_wds(tmp_path)])) == {"w/00000/k": ("packed", None), "w/00001/k": ("packed", None)}


def test_same_shard_name_in_two_directories_gives_two_samples(tmp_path):
    for part in ("part-a", "part-b"):  # e.g. two img2dataset runs under one source directory
        (tmp_path / part).mkdir()
        write_tar(tmp_path / part / "00000.tar", _pair("k"))
    assert fate(job_config([_wds(tmp_path)])) == {"w/part-a/00000/k": ("packed", None),
                                                  "w/part-b/00000/k": ("packed", None)}


def test_archive_cut_inside_a_caption_keeps_what_was_read(tmp_path):
    path = write_tar(tmp_path / "00000.tar", _pair("a") + [("b.jpg", jpeg()), ("b.txt", CAPTION.encode() * 200)])
    data = path.read_bytes()
    path.write_bytes(data[: data.index(CAPTION.encode() * 2) + 100])
    ledger = fate(job_config([_wds(tmp_path)]))
    assert ledger["w/00000/a"] == ("packed", None)
    assert ledger["w/00000/<truncated-archive>"] == ("invalid", "read.truncated_archive")


def test_archive_cut_inside_an_image_marks_that_image_truncated(tmp_path):
    image = jpeg(seed=1)
    path = write_tar(tmp_path / "00000.tar", _pair("a") + [("b.txt", CAPTION.encode()), ("b.jpg", image)])
    data = path.read_bytes()
    path.write_bytes(data[: data.index(image) + len(image) // 2])
    assert fate(job_config([_wds(tmp_path)])) == {"w/00000/a": ("packed", None),
                                                  "w/00000/b": ("invalid", "probe.truncated"),
                                                  "w/00000/<truncated-archive>": ("invalid", "read.truncated_archive")}


def test_corrupt_header_in_the_middle_is_reported_not_silent(tmp_path):
    path = write_tar(tmp_path / "00000.tar", _pair("a") + _pair("b"))
    data = bytearray(path.read_bytes())
    with tarfile.open(path) as tar:
        second = tar.getmember("b.jpg").offset  # tarfile would stop here quietly and drop "b"
    data[second: second + 512] = os.urandom(512)
    path.write_bytes(bytes(data))
    ledger = fate(job_config([_wds(tmp_path)]))
    assert ledger["w/00000/a"] == ("packed", None)
    assert ledger["w/00000/<truncated-archive>"] == ("invalid", "read.truncated_archive")


@pytest.mark.parametrize("content", [b"", b"not a tar at all" * 64], ids=["zero-byte", "garbage"])
def test_unreadable_shard_is_an_error_naming_the_file(tmp_path, content):
    path = tmp_path / "00007.tar"
    path.write_bytes(content)
    with pytest.raises(SourceFileError, match="00007.tar"):
        read_wds(str(path), SourceConfig(name="w", format="wds", path=str(path)))


def test_source_file_name_that_is_not_utf8_is_an_error_naming_it(tmp_path):
    from jobs.readers import list_source_files

    write_tar(tmp_path / "00000.tar", _pair("k"))
    with open(os.path.join(os.fsencode(tmp_path), b"caf\xe9.tar"), "wb") as fh:
        fh.write((tmp_path / "00000.tar").read_bytes())
    with pytest.raises(SourceFileError, match=r"caf\\udce9.tar.*not valid UTF-8"):
        list_source_files(SourceConfig(name="w", format="wds", path=str(tmp_path)))
