"""A committed output's packs as a Ray Dataset: `read_packs(OUT)`.

The shards are plain webdataset tars (`KEY.json`, `KEY.tokens.npy`, `KEY.labels.npy`,
`KEY.<i>.<ext>` media), so `ray.data.read_webdataset` reads them, with one setting:
`decoder=None`. With its default decoder Ray decodes every `.jpg`/`.png` into an array and then
fails to stack arrays of different image sizes into one tensor column ("Tried to cast column 0.jpg
to the TensorArray tensor extension type"); with `decoder=None` every member stays bytes, one
column per member suffix (`json`, `tokens.npy`, `0.jpg`, `1.png`, …, empty where a pack has fewer
media).

`read_packs` does that for the shards the manifest lists (never a stray or half-written tar) and
turns each pack into one row of fixed columns: `key`, `shard`, `pack_id`, `step`, `rank`, `micro`,
`layout` (the KEY.json text), `input_ids` and `labels` (lists of int), `media_names` and `media`
(the media bytes, in the layout's order, video frames after their video).
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

RAW_MEMBERS = ("json", "tokens.npy", "labels.npy")
_MEDIA_ORDER = re.compile(r"^(\d+)(?:\.f(\d+))?\.")


def shard_paths(out: str | Path, ranks: list[int] | None = None) -> list[str]:
    """Absolute paths of the shards the manifest of `out` lists (of `ranks` only, if given)."""
    from schemas.manifest import MANIFEST_NAME, Manifest

    out = Path(out)
    path = out / MANIFEST_NAME
    if not path.exists():
        raise FileNotFoundError(f"{out} has no {MANIFEST_NAME}: it is not a committed vlpack output")
    manifest = Manifest.model_validate_json(path.read_text())
    return [str((out / s.path).resolve()) for s in manifest.shards if ranks is None or s.rank in ranks]


def _media_key(suffix: str) -> tuple[int, int]:
    m = _MEDIA_ORDER.match(suffix)
    return (int(m.group(1)), int(m.group(2) or -1)) if m else (1 << 30, 0)


def pack_row(sample: dict, root: str = "") -> dict:
    """One webdataset sample (raw bytes per member suffix) as a row of fixed columns."""
    import numpy as np

    layout = json.loads(bytes(sample["json"]).decode("utf-8"))
    # a pack without some other pack's member suffix has a null there (NaN once Ray made a pandas block)
    names = sorted((k for k, v in sample.items() if not k.startswith("__") and k not in RAW_MEMBERS
                    and isinstance(v, (bytes, bytearray, memoryview))), key=_media_key)
    url = str(sample.get("__url__", ""))
    return {
        "key": sample["__key__"].rsplit("/", 1)[-1],
        "shard": url[len(root):].lstrip("/") if root and url.startswith(root) else url,
        "pack_id": layout["pack_id"], "step": layout["step"], "rank": layout["rank"], "micro": layout["micro"],
        "layout": bytes(sample["json"]).decode("utf-8"),
        "input_ids": np.load(io.BytesIO(bytes(sample["tokens.npy"])), allow_pickle=False).tolist(),
        "labels": np.load(io.BytesIO(bytes(sample["labels.npy"])), allow_pickle=False).tolist(),
        "media_names": names,
        "media": [bytes(sample[k]) for k in names],
    }


def read_packs(out: str | Path, ranks: list[int] | None = None):
    """The packs of a committed output as a Ray Dataset, one row per pack (columns above)."""
    import ray

    paths = shard_paths(out, ranks)
    if not paths:
        return ray.data.from_items([])
    root = str(Path(out).resolve())
    return ray.data.read_webdataset(paths, decoder=None).map(pack_row, fn_kwargs={"root": root})
