"""Each image file is read once (issue 15): the probe's header read serves the filter's image
rules. Proof: after the probe, the files are deleted; the filter still judges every image exactly
as it does with the files present."""

from __future__ import annotations

from hostile_inputs import animated, encode, image_source, jpeg, job_config, picture

from jobs import stages
from jobs.file_stages import read_rows
from packer.probe import IMAGE_FACTS


def _fates(table):
    return {r["sample_id"]: (r["status"], r["reason"]) for r in table.to_pylist()}


def test_image_rules_need_no_second_read(tmp_path):
    images = {"good.jpg": jpeg(320, 240), "low_q.jpg": encode(picture(320, 240), "JPEG", quality=8), "tiny.jpg": jpeg(20, 20),
              "anim.gif": animated("GIF"), "wide.jpg": jpeg(2000, 20)}
    source = image_source(tmp_path, images)
    cfg = job_config([source])
    plan = dict(stages.stage_plan(cfg))
    table, _ = read_rows(source["path"], cfg.sources[0], cfg)
    probed, _ = plan["probe"](table)
    assert IMAGE_FACTS in probed.column_names
    with_files, _ = plan["filter"](probed)
    for name in images:
        (tmp_path / name).unlink()
    without_files, _ = plan["filter"](probed)
    assert _fates(without_files) == _fates(with_files)
    assert _fates(with_files) == {
        "s/good.jpg": ("ok", None), "s/low_q.jpg": ("filtered", "filter.compression"),
        "s/tiny.jpg": ("filtered", "filter.image_too_small"), "s/anim.gif": ("filtered", "filter.animated"),
        "s/wide.jpg": ("filtered", "filter.image_too_small")}
    assert IMAGE_FACTS not in with_files.column_names  # the facts stop at the filter
