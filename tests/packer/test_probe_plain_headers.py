"""The plain JPEG and PNG header walks (`packer.probe._probe_plain_jpeg`, `_probe_plain_png`)
against Pillow's reading of the same bytes: wherever a walk answers, its probe equals the one
through Pillow's plugins, field for field, for real encoder outputs and for every truncation and
many corruptions of their headers; where the header is not plain it leaves the file to Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from packer.probe import (_bomb_warnings_raised, _probe_plain_jpeg, _probe_plain_png, _probe_through_plugins,
                          probe_image)
from schemas.tokens_config import ProbeConfig

CONFIGS = [ProbeConfig(), ProbeConfig(check_tail=False), ProbeConfig(max_header_pixels=300 * 200)]


def encoded(mode="RGB", size=(320, 240), **kw) -> bytes:
    im = Image.new(mode, size)
    im.paste((90,) * len(mode) if mode != "L" else 90, (0, 0, size[0] // 2, size[1] // 3))
    buf = io.BytesIO()
    im.save(buf, "JPEG", **kw)
    return buf.getvalue()


def through_pillow(data: bytes, cfg: ProbeConfig):
    return _bomb_warnings_raised(_probe_through_plugins, io.BytesIO(data), "x.jpg", data[:16], len(data), cfg)


def plain(data: bytes, cfg: ProbeConfig):
    return _probe_plain_jpeg(io.BytesIO(data), len(data), cfg)


def agrees(data: bytes) -> bool:
    """Whether the walk answered (for the default config); asserts it agrees wherever it does."""
    answered = False
    for cfg in CONFIGS:
        fast = plain(data, cfg)
        if fast is not None:
            assert fast == through_pillow(data, cfg), (cfg, data[:64])
            answered = answered or cfg == CONFIGS[0]
    return answered


def segments(data: bytes) -> list[tuple[int, int, int]]:
    """(marker, start, end) of each segment up to and including SOS."""
    out, pos = [], 2
    while True:
        marker, length = data[pos + 1], struct.unpack(">H", data[pos + 2:pos + 4])[0]
        out.append((marker, pos, pos + 2 + length))
        pos += 2 + length
        if marker == 0xDA:
            return out


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def after_soi(data: bytes, extra: bytes) -> bytes:
    return data[:2] + extra + data[2:]


ENCODINGS = {
    "baseline": encoded(),
    "q5": encoded(quality=5),
    "q100": encoded(quality=100),
    "progressive": encoded(progressive=True, quality=80),
    "optimized": encoded(optimize=True),
    "subsampling_444": encoded(subsampling=0),
    "grey": encoded("L", (97, 401)),
    "cmyk": encoded("CMYK", (64, 48)),
    "dpi": encoded(dpi=(300, 300)),
    "dpi_cm": encoded(dpi=(118, 118)),
    "comment": encoded(comment=b"made by a test"),
    "icc": encoded(icc_profile=bytes(range(256)) * 3),
    "restart": encoded(restart_marker_blocks=1),
    "no_jfif": None,  # filled below
}
ENCODINGS["no_jfif"] = (lambda d: d[:2] + d[segments(d)[0][2]:])(ENCODINGS["baseline"])


@pytest.mark.parametrize("name", sorted(ENCODINGS))
def test_encoder_outputs_take_the_walk_and_agree(name):
    assert agrees(ENCODINGS[name])


def test_sixteen_bit_tables_and_second_tables_agree():
    data = ENCODINGS["baseline"]
    wide = segment(0xDB, bytes([0x10]) + struct.pack(">64H", *range(300, 364)))
    both = segment(0xDB, bytes([0x01]) + bytes(range(1, 65)) + bytes([0x00]) + bytes(range(64, 128)))
    for extra in (wide, both, wide + both):
        assert agrees(after_soi(data, extra))


@pytest.mark.parametrize("name", ["exif", "xmp", "mpf", "photoshop"])
def test_what_pillow_must_read_is_left_to_it(name, tmp_path):
    base = ENCODINGS["baseline"]
    if name == "exif":
        exif = Image.Exif()
        exif[0x0112] = 6
        data = encoded(exif=exif)
    elif name == "xmp":
        data = after_soi(base, segment(0xE1, b"http://ns.adobe.com/xap/1.0/\x00<x tiff:Orientation=\"6\"/>"))
    elif name == "mpf":
        data = after_soi(base, segment(0xE2, b"MPF\x00II*\x00\x08\x00\x00\x00"))
    else:
        data = after_soi(base, segment(0xED, b"Photoshop 3.0\x008BIM\x04\x04\x00"))
    assert all(plain(data, cfg) is None for cfg in CONFIGS)
    path = tmp_path / "f.jpg"
    path.write_bytes(data)
    assert probe_image(str(path), ProbeConfig()) == through_pillow(data, ProbeConfig())


def test_odd_headers_are_left_to_pillow_or_agree():
    data = ENCODINGS["baseline"]
    sof = next(s for s in segments(data) if s[0] == 0xC0)
    body = bytearray(data[sof[1] + 4:sof[2]])
    odd = {
        "fill_bytes": after_soi(data, b"\xff\xff"),
        "junk": after_soi(data, b"\x00"),
        "unknown_marker": after_soi(data, segment(0x01, b"x")),
        "restart_marker": after_soi(data, b"\xff\xd0"),
        "second_soi": after_soi(data, b"\xff\xd8"),
        "short_length": after_soi(data, b"\xff\xfe\x00\x01"),
        "empty_comment": after_soi(data, b"\xff\xfe\x00\x02"),
        "dhp": after_soi(data, segment(0xDE, bytes(body))),
        "two_frames": data[:sof[2]] + data[sof[1]:],
        "twelve_bit": data[:sof[1] + 4] + bytes([12]) + bytes(body[1:]) + data[sof[2]:],
        "two_layers": data[:sof[1] + 4] + bytes(body[:5]) + bytes([2]) + bytes(body[6:]) + data[sof[2]:],
        "ragged_frame": data[:sof[1]] + segment(0xC0, bytes(body) + b"\x01") + data[sof[2]:],
        "zero_width": data[:sof[1] + 4] + bytes(body[:3]) + b"\x00\x00" + bytes(body[5:]) + data[sof[2]:],
        "short_jfif": after_soi(data, segment(0xE0, b"JFIF\x00\x01")),
        "short_adobe": after_soi(data, segment(0xEE, b"Adobe\x00")),
        "short_icc": after_soi(data, segment(0xE2, b"ICC_PROFILE\x00\x01")),
        "short_table": after_soi(data, segment(0xDB, bytes([0x00]) + bytes(range(1, 40)))),
        "bomb_sized": data[:sof[1] + 4] + bytes(body[:1]) + b"\xff\xff\xff\xff" + bytes(body[5:]) + data[sof[2]:],
    }
    for variant in odd.values():
        agrees(variant)  # asserts equality wherever the walk answers
    assert plain(odd["fill_bytes"], ProbeConfig()) is None and plain(odd["two_frames"], ProbeConfig()) is None
    assert plain(odd["empty_comment"], ProbeConfig()) is not None  # a plain segment, still the walk's


@pytest.mark.parametrize("name", ["baseline", "progressive", "comment"])
def test_every_marker_in_place_of_each_segments_agrees(name):
    """Each segment's marker byte replaced by every value: markers without a length (RSTn, SOI,
    EOI, TEM), DHP, unknown ones and non-markers are left to Pillow or agree with it."""
    data = ENCODINGS[name]
    for _, start, _ in segments(data):
        for value in range(256):
            agrees(data[:start + 1] + bytes([value]) + data[start + 2:])


@pytest.mark.parametrize("name", ["baseline", "progressive", "icc", "grey"])
def test_every_truncation_and_corruption_of_the_header_agrees(name):
    data = ENCODINGS[name]
    header_end = segments(data)[-1][2]
    for n in range(3, min(len(data), header_end + 40)):
        agrees(data[:n])
    assert plain(data[:header_end - 1], ProbeConfig()) is None  # the scan header cut: Pillow's call
    answered = 0
    for pos in range(2, header_end):
        for value in {0x00, 0x01, 0xFF, data[pos] ^ 0x80}:
            variant = data[:pos] + bytes([value]) + data[pos + 1:]
            answered += agrees(variant)
    assert answered > header_end  # most corruptions of table values leave a plain header


# PNG


def png_bytes(mode="RGB", size=(120, 80), **kw) -> bytes:
    im = Image.new(mode, size)
    if mode == "P":
        im.putpalette(bytes(range(48)))
    buf = io.BytesIO()
    im.save(buf, "PNG", **kw)
    return buf.getvalue()


def chunk(ctype: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + ctype + data + struct.pack(">I", zlib.crc32(ctype + data))


def png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """(type, start, end) of each chunk."""
    out, pos = [], 8
    while pos + 8 <= len(data):
        length, ctype = struct.unpack(">I4s", data[pos:pos + 8])
        out.append((ctype, pos, pos + 12 + length))
        pos += 12 + length
    return out


def before_idat(data: bytes, extra: bytes) -> bytes:
    at = next(start for ctype, start, _ in png_chunks(data) if ctype == b"IDAT")
    return data[:at] + extra + data[at:]


def before_iend(data: bytes, extra: bytes) -> bytes:
    at = next(start for ctype, start, _ in png_chunks(data) if ctype == b"IEND")
    return data[:at] + extra + data[at:]


def png_agrees(data: bytes) -> bool:
    answered = False
    for cfg in CONFIGS:
        fast = _probe_plain_png(io.BytesIO(data), len(data), cfg)
        if fast is not None:
            assert fast == through_pillow(data, cfg), (cfg, data[:64])
            answered = answered or cfg == CONFIGS[0]
    return answered


def png_plain(data: bytes):
    return _probe_plain_png(io.BytesIO(data), len(data), ProbeConfig())


PNGS = {
    "rgb": png_bytes(),
    "rgba": png_bytes("RGBA"),
    "grey": png_bytes("L", (33, 401)),
    "grey_alpha": png_bytes("LA"),
    "bilevel": png_bytes("1"),
    "sixteen_bit": png_bytes("I;16"),
    "palette": png_bytes("P"),
    "dpi": png_bytes(dpi=(300, 300)),
    "optimized": png_bytes(optimize=True),
    "chunks": None,  # filled below
    "big": png_bytes(size=(1300, 1100)),
}
PNGS["chunks"] = before_idat(PNGS["rgb"], chunk(b"gAMA", struct.pack(">I", 45455)) + chunk(b"sRGB", b"\x00")
                             + chunk(b"cHRM", struct.pack(">8I", *range(8))))


@pytest.mark.parametrize("name", sorted(PNGS))
def test_png_encoder_outputs_take_the_walk_and_agree(name):
    assert png_agrees(PNGS[name])


@pytest.mark.parametrize("name", ["text", "icc", "exif_before", "exif_after", "transparency", "animated",
                                  "unknown_chunk"])
def test_what_pillow_must_read_in_a_png_is_left_to_it(name, tmp_path):
    base = PNGS["rgb"]
    exif = Image.Exif()
    exif[0x0112] = 6
    if name == "text":
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "hello")
        data = png_bytes(pnginfo=info)
    elif name == "icc":
        data = png_bytes(icc_profile=bytes(200))
    elif name == "exif_before":
        data = png_bytes(exif=exif)
    elif name == "exif_after":
        data = before_iend(base, chunk(b"eXIf", exif.tobytes()))
    elif name == "transparency":
        data = png_bytes("P", transparency=0)
    elif name == "animated":
        buf = io.BytesIO()
        Image.new("RGB", (40, 30)).save(buf, "PNG", save_all=True,
                                        append_images=[Image.new("RGB", (40, 30), (255, 0, 0))])
        data = buf.getvalue()
    else:
        data = before_idat(base, chunk(b"bKGD", b"\x00\x00\x00\x00\x00\x00"))
    assert all(_probe_plain_png(io.BytesIO(data), len(data), cfg) is None for cfg in CONFIGS)
    path = tmp_path / "f.png"
    path.write_bytes(data)
    assert probe_image(str(path), ProbeConfig()) == through_pillow(data, ProbeConfig())


def test_odd_png_headers_are_left_to_pillow_or_agree():
    data = PNGS["rgb"]
    ihdr = data[16:29]
    def with_ihdr(body: bytes) -> bytes:
        return data[:8] + chunk(b"IHDR", body) + data[33:]
    odd = {
        "bad_crc": data[:29] + b"\x00\x00\x00\x00" + data[33:],
        "filter_method": with_ihdr(ihdr[:11] + b"\x01" + ihdr[12:]),
        "interlaced": with_ihdr(ihdr[:12] + b"\x01"),
        "unknown_depth": with_ihdr(ihdr[:8] + b"\x07" + ihdr[9:]),
        "zero_width": with_ihdr(b"\x00\x00\x00\x00" + ihdr[4:]),
        "bomb_sized": with_ihdr(struct.pack(">II", 100_000, 100_000) + ihdr[8:]),
        "long_ihdr": with_ihdr(ihdr + b"\x00"),
        "short_gama": before_idat(data, chunk(b"gAMA", b"\x00\x01")),
        "short_chrm": before_idat(data, chunk(b"cHRM", bytes(31))),
        "empty_srgb": before_idat(data, chunk(b"sRGB", b"")),
        "short_phys": before_idat(data, chunk(b"pHYs", bytes(8))),
        "second_ihdr": before_idat(data, chunk(b"IHDR", ihdr)),
        "chunk_before_ihdr": data[:8] + chunk(b"gAMA", bytes(4)) + data[8:],
        "idat_first": data[:8] + data[33:],
        "huge_length": before_idat(data, struct.pack(">I", 0xFFFFFFF0) + b"PLTE"),
        "no_iend": data[:png_chunks(data)[-1][1]],
    }
    for variant in odd.values():
        png_agrees(variant)  # asserts equality wherever the walk answers
    assert png_plain(odd["bad_crc"]) is None and png_plain(odd["filter_method"]) is None
    assert png_plain(odd["interlaced"]) is not None and png_plain(odd["no_iend"]).reason == "probe.truncated"
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        assert png_plain(data) is None  # Pillow skips checks then: its reading decides
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = False


@pytest.mark.parametrize("name", ["rgb", "palette", "chunks"])
def test_every_truncation_and_corruption_of_a_png_header_agrees(name):
    data = PNGS[name]
    idat = next((start, end) for ctype, start, end in png_chunks(data) if ctype == b"IDAT")
    for n in range(8, len(data)):
        png_agrees(data[:n])
    answered = 0
    for pos in range(8, idat[0] + 8):
        for value in {0x00, 0x01, 0xFF, data[pos] ^ 0x80}:
            answered += png_agrees(data[:pos] + bytes([value]) + data[pos + 1:])
    for pos in range(idat[1], len(data)):  # past the header: only the tail check reads these
        png_agrees(data[:pos] + bytes([data[pos] ^ 0xFF]) + data[pos + 1:])
    assert answered > 0
