"""Header-only probing on real files made with Pillow: EXIF orientation, bad files, bombs, tables."""

from __future__ import annotations

import io
import struct
import tarfile
import warnings
import zlib
from pathlib import Path

import pyarrow as pa
import pytest
from PIL import Image, ImageFile, ImageOps

from packer.media import tar_member_uri
from packer.probe import probe_batch, probe_frame_dir, probe_image
from packer.tokens import image_tokens
from schemas.sample import WORK_SCHEMA, Media, Sample, Segment, Turn, records_to_table, with_work_columns
from schemas.tokens_config import ProbeConfig

CFG = ProbeConfig()
W, H = 640, 200  # far from square, so a wrong swap changes the token count


def picture(w=W, h=H) -> Image.Image:
    im = Image.new("RGB", (w, h))
    im.paste((200, 30, 30), (0, 0, w // 2, h // 3))  # asymmetric, so rotations are distinguishable
    return im


def save(path, fmt="JPEG", orientation=None, im=None, **kw):
    im = im or picture()
    if orientation is not None:
        exif = Image.Exif()
        exif[0x0112] = orientation
        kw["exif"] = exif
    im.save(path, fmt, **kw)
    return str(path)


def png_chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims width x height (a decompression bomb's shape)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", zlib.compress(b"\0" * 64))
            + png_chunk(b"IEND", b""))


@pytest.fixture
def no_decoding(monkeypatch):
    """Probing must never decode pixels: any load() fails the test."""

    def refuse(self, *a, **k):
        raise AssertionError(f"pixels of {self.format} were decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", refuse)


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp"), ("TIFF", "tif")])
@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_gives_the_upright_count(tmp_path, fmt, ext, orientation):
    path = save(tmp_path / f"o{orientation}.{ext}", fmt, orientation)
    with Image.open(path) as im:
        upright = ImageOps.exif_transpose(im).size  # what the trainer sees, decoded for real
    p = probe_image(path, CFG)
    assert p.ok and p.orientation == orientation and p.format == fmt.lower()
    assert (p.width, p.height) == upright
    expected = (H, W) if orientation >= 5 else (W, H)
    assert upright == expected
    assert image_tokens(p.width, p.height) == image_tokens(*expected)


def test_probe_reads_headers_only(tmp_path, no_decoding):
    paths = [save(tmp_path / "a.jpg", "JPEG", 6), save(tmp_path / "b.png", "PNG", 8),
             save(tmp_path / "c.webp", "WEBP", 5), save(tmp_path / "d.gif", "GIF"),
             save(tmp_path / "e.bmp", "BMP"), save(tmp_path / "f.tif", "TIFF", 6)]
    for path in paths:
        assert probe_image(path, CFG).ok, path


def test_png_exif_after_the_pixel_data(tmp_path, no_decoding):
    """An eXIf chunk after IDAT is still found (PngImageFile.getexif would decode to reach it)."""
    buf = io.BytesIO()
    picture().save(buf, "PNG")
    exif = Image.Exif()
    exif[0x0112] = 6
    data = buf.getvalue()
    iend = data.rindex(b"IEND") - 4
    path = tmp_path / "late.png"
    path.write_bytes(data[:iend] + png_chunk(b"eXIf", exif.tobytes()) + data[iend:])
    p = probe_image(str(path), CFG)
    assert (p.width, p.height, p.orientation) == (H, W, 6)


def test_png_exif_after_idat_agrees_with_exif_transpose(tmp_path):
    buf = io.BytesIO()
    picture().save(buf, "PNG")
    exif = Image.Exif()
    exif[0x0112] = 8
    data = buf.getvalue()
    iend = data.rindex(b"IEND") - 4
    path = tmp_path / "late.png"
    path.write_bytes(data[:iend] + png_chunk(b"eXIf", exif.tobytes()) + data[iend:])
    with Image.open(path) as im:
        assert ImageOps.exif_transpose(im).size == (H, W)
    assert probe_image(str(path), CFG).width == H


@pytest.mark.parametrize("fmt,ext", [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_files(tmp_path, fmt, ext, keep):
    full = save(tmp_path / f"full.{ext}", fmt, im=Image.effect_noise((300, 200), 60).convert("RGB"))
    data = Path(full).read_bytes()
    cut = tmp_path / f"cut.{ext}"
    cut.write_bytes(data[: int(len(data) * keep)])
    assert probe_image(str(cut), CFG).reason == "probe.truncated"
    # the check is cheap and optional
    assert probe_image(str(cut), ProbeConfig(check_tail=False)).reason in (None, "probe.truncated")


@pytest.mark.parametrize("n", [3, 20, 100])
def test_truncated_header(tmp_path, n):
    data = Path(save(tmp_path / "full.jpg", "JPEG", 6)).read_bytes()
    cut = tmp_path / "cut.jpg"
    cut.write_bytes(data[:n])
    assert probe_image(str(cut), CFG).reason in ("probe.truncated", "probe.unreadable")
    if n >= 20:
        assert probe_image(str(cut), CFG).reason == "probe.truncated"


def test_garbage_empty_missing_directory(tmp_path):
    (tmp_path / "garbage.jpg").write_bytes(bytes(range(256)) * 8)
    (tmp_path / "text.png").write_text("not an image at all")
    (tmp_path / "empty.jpg").write_bytes(b"")
    (tmp_path / "dir.jpg").mkdir()
    assert probe_image(str(tmp_path / "garbage.jpg"), CFG).reason == "probe.unreadable"
    assert probe_image(str(tmp_path / "text.png"), CFG).reason == "probe.unreadable"
    assert probe_image(str(tmp_path / "empty.jpg"), CFG).reason == "probe.empty"
    assert probe_image(str(tmp_path / "nope.jpg"), CFG).reason == "probe.missing"
    assert probe_image(str(tmp_path / "dir.jpg"), CFG).reason == "probe.unreadable"


def test_format_outside_the_accepted_list_is_unreadable(tmp_path):
    path = save(tmp_path / "x.bmp", "BMP")
    assert probe_image(path, ProbeConfig(formats=("JPEG", "PNG"))).reason == "probe.unreadable"


@pytest.mark.parametrize("size", [(100_000, 100_000), (30_000, 10_000), (10_001, 10_000)])
def test_bombs_get_our_reason_before_pillows_limit(tmp_path, size):
    path = tmp_path / "bomb.png"
    path.write_bytes(png_header_only(*size))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no DecompressionBombWarning escapes either
        p = probe_image(str(path), CFG)
    assert p.reason == "probe.too_many_pixels"
    assert (p.width, p.height) == size


def test_our_limit_decides_not_pillows(tmp_path):
    big = tmp_path / "big.png"
    big.write_bytes(png_header_only(100_000, 100_000))  # 10^10 px: far past Pillow's error limit
    assert probe_image(str(big), ProbeConfig(max_header_pixels=2**40)).ok
    mid = tmp_path / "mid.png"
    mid.write_bytes(png_header_only(10_000, 9_500))  # past Pillow's warning limit, under ours
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert probe_image(str(mid), CFG).ok
    small_limit = ProbeConfig(max_header_pixels=W * H - 1)
    assert probe_image(save(tmp_path / "p.jpg"), small_limit).reason == "probe.too_many_pixels"


@pytest.mark.parametrize("fmt,ext", [("GIF", "gif"), ("PNG", "png"), ("WEBP", "webp")])
def test_animated_policy(tmp_path, fmt, ext):
    frames = [picture().rotate(0), Image.new("RGB", (W, H), "blue"), Image.new("RGB", (W, H), "green")]
    path = str(tmp_path / f"anim.{ext}")
    frames[0].save(path, fmt, save_all=True, append_images=frames[1:])
    first = probe_image(path, ProbeConfig(animated="first_frame"))
    assert first.ok and first.n_frames == 3 and (first.width, first.height) == (W, H)
    assert probe_image(path, ProbeConfig(animated="reject")).reason == "probe.animated"
    still = save(tmp_path / f"still.{ext}", fmt)
    assert probe_image(still, ProbeConfig(animated="reject")).ok


def test_frame_directory(tmp_path):
    d = tmp_path / "clip"
    d.mkdir()
    for i in range(5):
        save(d / f"frame_{i:04d}.jpg", "JPEG", im=picture(320, 180))
    (d / "notes.txt").write_text("ignored")
    p = probe_frame_dir(str(d), CFG)
    assert p.ok and (p.width, p.height, p.n_frames) == (320, 180, 5)
    empty = tmp_path / "empty"
    empty.mkdir()
    assert probe_frame_dir(str(empty), CFG).reason == "probe.no_frames"
    assert probe_frame_dir(str(tmp_path / "missing"), CFG).reason == "probe.missing"


def test_tar_member_uri(tmp_path):
    members = {"a.jpg": save(tmp_path / "a.jpg", "JPEG", 6), "b.png": save(tmp_path / "b.png", "PNG")}
    tar_path = tmp_path / "shard.tar"
    with tarfile.open(tar_path, "w") as tf:
        for name, path in members.items():
            tf.add(path, arcname=name)
    with tarfile.open(tar_path) as tf:
        infos = {ti.name: ti for ti in tf.getmembers()}
    uri_a = tar_member_uri(str(tar_path), "a.jpg", infos["a.jpg"].offset_data, infos["a.jpg"].size)
    uri_b = tar_member_uri(str(tar_path), "b.png", infos["b.png"].offset_data, infos["b.png"].size)
    a, b = probe_image(uri_a, CFG), probe_image(uri_b, CFG)
    assert (a.width, a.height, a.format, a.bytes_size) == (H, W, "jpeg", infos["a.jpg"].size)
    assert (b.width, b.height, b.format) == (W, H, "png")
    bad = tar_member_uri(str(tar_path), "a.jpg", infos["a.jpg"].offset_data, 10**9)
    assert probe_image(bad, CFG).reason == "probe.truncated"
    assert probe_image(tar_member_uri(str(tmp_path / "no.tar"), "a.jpg", 512, 100), CFG).reason == "probe.missing"


# ---------------------------------------------------------------------------------------------
# probe_batch


def make_table(samples: list[Sample]) -> pa.Table:
    return with_work_columns(records_to_table(samples))


def sample(sid: str, *media: Media) -> Sample:
    return Sample(sample_id=sid, source="src", turns=[Turn(role="assistant", segments=[Segment(text="a caption")])],
                  media=list(media))


def test_probe_batch_fills_marks_and_counts(tmp_path):
    good = save(tmp_path / "good.jpg", "JPEG", 6)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff" + b"junk" * 3)
    clip = tmp_path / "clip"
    clip.mkdir()
    for i in range(4):
        save(clip / f"{i:03d}.png", "PNG", im=picture(320, 180))
    table = make_table([
        sample("fill", Media(uri=good)),
        sample("known", Media(uri=good, width=111, height=222)),  # file checked: the header's size wins
        sample("broken", Media(uri=good), Media(uri=str(bad))),
        sample("missing", Media(uri=str(tmp_path / "gone.jpg"))),
        sample("video_dir", Media(uri=str(clip), kind="video")),
        sample("video_file", Media(uri=str(tmp_path / "v.mp4"), kind="video", duration=3.0, fps=25.0)),
        sample("skipped", Media(uri=str(tmp_path / "gone.jpg"))),
    ])
    statuses = table.column("status").to_pylist()
    statuses[-1] = "filtered"
    table = table.set_column(table.schema.get_field_index("status"), "status", pa.array(statuses, pa.string()))

    out, counters = probe_batch(table, CFG)
    from packer.probe import IMAGE_FACTS

    assert out.drop_columns([IMAGE_FACTS]).schema == WORK_SCHEMA and out.num_rows == table.num_rows
    facts = dict(zip(out.column("sample_id").to_pylist(), out.column(IMAGE_FACTS).to_pylist()))
    assert facts["fill"][0]["frames"] == 1 and facts["fill"][0]["jpeg_quality"] > 50  # read with the header
    assert facts["skipped"] == [None] and facts["video_file"] == [None]  # not probed: nothing to tell
    rows = {r["sample_id"]: r for r in out.to_pylist()}
    m = rows["fill"]["media"][0]
    assert (m["width"], m["height"], m["orientation"], m["format"]) == (H, W, 6, "jpeg")
    assert m["bytes_size"] > 0 and rows["fill"]["status"] == "ok"
    assert (rows["known"]["media"][0]["width"], rows["known"]["media"][0]["height"]) == (H, W)
    assert rows["known"]["repairs"] == ["probe.metadata_size_mismatch"] and rows["fill"]["repairs"] is None
    assert (rows["broken"]["status"], rows["broken"]["reason"]) == ("invalid", "probe.truncated")
    assert (rows["missing"]["status"], rows["missing"]["reason"]) == ("invalid", "probe.missing")
    # the bad file names itself: the second media item of "broken", not the good first one
    assert rows["broken"]["detail"] == str(bad) and rows["missing"]["detail"] == str(tmp_path / "gone.jpg")
    assert rows["fill"]["detail"] is None and rows["video_file"]["detail"] == str(tmp_path / "v.mp4")
    v = rows["video_dir"]["media"][0]
    assert (v["width"], v["height"], v["frames"], rows["video_dir"]["status"]) == (320, 180, 4, "ok")
    assert rows["video_file"]["reason"] == "probe.video_no_size"
    assert (rows["skipped"]["status"], rows["skipped"]["reason"]) == ("filtered", None)
    assert counters["probe.truncated"] == 1 and counters["probe.missing"] == 1
    assert counters["probe.video_no_size"] == 1
    assert counters["probe.headers_read"] == 6  # every image file is checked (ProbeConfig.check_files)
    assert counters["probe.metadata_disagrees"] == 1


def test_probe_batch_header_wins_and_counts_disagreement(tmp_path):
    path = save(tmp_path / "r.jpg", "JPEG", 6)
    table = make_table([
        sample("stored_size", Media(uri=path, width=W, height=H, format="jpg")),  # pre-EXIF size
        sample("right", Media(uri=path, width=H, height=W)),
    ])
    out, counters = probe_batch(table, ProbeConfig())
    rows = out.to_pylist()
    assert [(r["media"][0]["width"], r["media"][0]["height"]) for r in rows] == [(H, W), (H, W)]
    assert rows[0]["media"][0]["format"] == "jpg"  # same format, metadata spelling kept
    assert counters["probe.metadata_disagrees"] == 1
    assert [r["repairs"] for r in rows] == [["probe.metadata_size_mismatch"], None]
    kept, counters2 = probe_batch(table, ProbeConfig(header_wins=False))
    assert kept.to_pylist()[0]["media"][0]["width"] == W and counters2["probe.metadata_disagrees"] == 1
    assert kept.to_pylist()[0]["repairs"] is None


def test_probe_batch_without_work_reads_nothing(tmp_path):
    table = make_table([sample("a", Media(uri=str(tmp_path / "gone.jpg"), width=10, height=10))])
    unchecked = ProbeConfig(check_files=False)
    out, counters = probe_batch(table, unchecked)
    assert counters == {} and out.equals(table)
    empty, c = probe_batch(table.slice(0, 0), unchecked)
    assert empty.num_rows == 0 and c == {}
    checked, c = probe_batch(table, CFG)  # by default the file is checked even with a size given
    assert checked.column("reason").to_pylist() == ["probe.missing"] and c["probe.headers_read"] == 1


XMP_ORIENTATION_8 = (b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                     b'<rdf:Description xmlns:tiff="http://ns.adobe.com/tiff/1.0/" tiff:Orientation="8"/>'
                     b"</rdf:RDF></x:xmpmeta>")


@pytest.mark.parametrize("size", [(640, 200), (1, 1), (16383, 3)])
@pytest.mark.parametrize("lossless", [False, True])
@pytest.mark.parametrize("mode", ["RGB", "RGBA"])
@pytest.mark.parametrize("orientation", [None, 3, 6])
def test_webp_chunk_parser_agrees_with_pillow(tmp_path, size, lossless, mode, orientation):
    """WebP is read from its RIFF chunks, not through Pillow: check it against Pillow decoding."""
    path = save(tmp_path / "x.webp", "WEBP", orientation, im=Image.new(mode, size, "red"), lossless=lossless)
    p = probe_image(path, CFG)
    with Image.open(path) as im:
        assert (p.width, p.height) == ImageOps.exif_transpose(im).size
        assert p.n_frames == getattr(im, "n_frames", 1)


def test_webp_orientation_from_xmp(tmp_path):
    path = str(tmp_path / "xmp.webp")
    picture().save(path, "WEBP", xmp=XMP_ORIENTATION_8)
    with Image.open(path) as im:
        assert ImageOps.exif_transpose(im).size == (H, W)
    p = probe_image(path, CFG)
    assert (p.width, p.height, p.orientation) == (H, W, 8)


def test_probe_batch_judges_bombs_and_restores_the_warning_filters(tmp_path, monkeypatch):
    """The batch holds one warnings filter over all its headers: a bomb in the middle of a batch is
    still our reason (no DecompressionBombWarning escapes), and the filters are as before afterwards,
    also when the batch fails."""
    from packer import probe as probe_module

    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(png_header_only(30_000, 10_000))
    mid = tmp_path / "mid.png"
    mid.write_bytes(png_header_only(10_000, 9_500))  # past Pillow's warning limit, under ours
    good = save(tmp_path / "good.jpg")
    table = make_table([sample("a", Media(uri=good)), sample("bomb", Media(uri=str(bomb))),
                        sample("mid", Media(uri=str(mid))), sample("b", Media(uri=good))])
    before = list(warnings.filters)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        inner = list(warnings.filters)
        out, counters = probe_batch(table, CFG)
        assert warnings.filters == inner
    assert warnings.filters == before
    reasons = dict(zip(out.column("sample_id").to_pylist(), out.column("reason").to_pylist()))
    assert reasons == {"a": None, "bomb": "probe.too_many_pixels", "mid": None, "b": None}
    assert counters["probe.too_many_pixels"] == 1

    def fail(*a, **k):  # an unexpected error (a bug) in the middle of the batch
        raise RuntimeError("disk gone")

    with monkeypatch.context() as patched:
        patched.setattr(probe_module, "_probe_media", fail)
        with pytest.raises(RuntimeError):
            probe_batch(table, CFG)
    assert warnings.filters == before
    with warnings.catch_warnings():  # the guard is off again: a lone probe sets its own filter
        warnings.simplefilter("error")
        assert probe_image(str(bomb), CFG).reason == "probe.too_many_pixels"
