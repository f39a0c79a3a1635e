"""NSFW score from NudeNet's ONNX detector (the `320n.onnx` shipped inside the `nudenet` wheel).

The detector is a YOLO-style model: for every anchor it outputs a box and one confidence per class.
An image's score is the highest confidence, over all anchors, of any class in `classes` (the
exposed-body classes by default); no box threshold or NMS is needed for a maximum. The input is
prepared as NudeNet prepares it: the RGB image padded at the bottom/right to a square, resized to
`input_size`, scaled to [0, 1].
"""

from __future__ import annotations

import os

import numpy as np

from filters.scorers.devices import Accelerator, onnx_providers
from schemas.scorer_config import NsfwScorer as NsfwConfig


def nudenet_model() -> tuple[str, tuple[str, ...]]:
    """(path of the ONNX file shipped in the nudenet wheel, its class labels in output order)."""
    try:
        import nudenet.nudenet as nn
    except ImportError as err:
        raise ImportError("the nsfw scorer needs the `nsfw` extra: pip install 'vlpack[nsfw]' "
                          "(nudenet and onnxruntime)") from err
    return os.path.join(os.path.dirname(nn.__file__), "320n.onnx"), tuple(getattr(nn, "__labels"))


def letterbox(image, size: int) -> np.ndarray:
    """(3, size, size) float32 in [0, 1]: `image` padded to a square at the bottom/right, resized."""
    from PIL import Image

    w, h = image.size
    side = max(w, h)
    square = Image.new("RGB", (side, side))
    square.paste(image, (0, 0))
    square = square.resize((size, size), Image.Resampling.BILINEAR)
    return np.asarray(square, dtype=np.float32).transpose(2, 0, 1) / np.float32(255.0)


class NsfwModel:
    """Loaded once; `score(images)` -> float32 per image (NaN for an image that is None)."""

    def __init__(self, cfg: NsfwConfig, accelerator: Accelerator = "cpu", threads: int = 1):
        import onnxruntime

        path, labels = nudenet_model()
        path = cfg.model_path or path
        unknown = sorted(set(cfg.classes) - set(labels))
        if unknown:
            raise ValueError(f"filters.scorers.nsfw.classes: unknown {unknown}; NudeNet's classes are {labels}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = max(1, threads)
        options.inter_op_num_threads = 1
        self.session = onnxruntime.InferenceSession(path, sess_options=options,
                                                    providers=onnx_providers(accelerator))
        self.input_name = self.session.get_inputs()[0].name
        self.size = cfg.input_size
        self.class_index = np.array([4 + labels.index(c) for c in cfg.classes], dtype=np.int64)

    def class_scores(self, images: list) -> np.ndarray:
        """(n, n_classes) highest confidence of each configured class over all anchors."""
        blob = np.stack([letterbox(im, self.size) for im in images])
        out = self.session.run(None, {self.input_name: blob})[0]  # (n, 4 + classes, anchors)
        return out[:, self.class_index, :].max(axis=2)

    def score(self, images: list) -> np.ndarray:
        scores = np.full(len(images), np.nan, dtype=np.float32)
        ok = [i for i, im in enumerate(images) if im is not None]
        if ok:
            scores[ok] = self.class_scores([images[i] for i in ok]).max(axis=1)
        return scores
