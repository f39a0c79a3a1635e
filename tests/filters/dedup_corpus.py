"""A labelled caption corpus for the dedup tests: planted exact, near and non-duplicates.

Not a test module; `tests/filters/test_dedup_*.py` and `tests/jobs/test_dedup_stage.py` import it.
"""

from __future__ import annotations

import random

import pyarrow as pa

from schemas.sample import Media, Sample, Segment, Turn, records_to_table, with_work_columns

WORDS = ["dog", "cat", "horse", "bird", "boat", "car", "truck", "bicycle", "man", "woman", "child", "girl", "boy", "street", "river", "lake", "mountain", "forest", "field", "beach", "city", "market", "kitchen", "table", "chair", "window", "door", "garden", "park", "bridge", "tower", "church", "house", "road", "red", "blue", "green", "yellow", "white", "black", "brown", "small", "large", "old", "young", "wooden", "stone", "metal", "bright", "dark", "quiet", "busy", "sunny", "rainy", "snowy", "sitting", "standing", "running", "walking", "playing", "looking", "holding", "carrying", "riding", "eating", "near", "next", "behind", "under", "over", "along", "across", "inside", "outside", "front", "background", "foreground", "evening", "morning", "night", "sunset", "sunrise", "summer", "winter", "autumn", "spring", "photo", "picture", "view", "close", "image", "painting", "drawing", "sign", "light", "lamp", "tree", "flower", "grass", "rock", "wall", "fence", "roof", "sky", "cloud", "water", "wave", "sand", "snow", "ice", "fire", "smoke", "plate", "bowl", "cup", "glass", "bottle", "bread", "soup", "fruit", "apple", "orange", "banana", "cake", "pizza", "sandwich", "coffee", "tea", "milk", "book", "phone", "laptop", "screen", "camera", "bag", "hat", "shirt", "dress", "shoes", "jacket", "umbrella", "ball", "kite", "train", "plane", "bus"]


def _variant(text: str, rng: random.Random) -> str:
    """The same caption up to case, punctuation and whitespace."""
    out = text.capitalize() if rng.random() < 0.5 else text.upper()
    return ("  " + out.replace(" ", "  ", 1) + rng.choice([".", "!", " ...", ";"])).rstrip()


def _near(text: str, rng: random.Random) -> str:
    words = text.split()
    op = rng.randrange(5)
    at = rng.randrange(len(words))
    if op == 0:  # one typo
        w = words[at]
        c = rng.randrange(len(w))
        words[at] = w[:c] + rng.choice("qxz") + w[c + 1:]
    elif op == 1:  # two adjacent letters swapped
        w = words[at]
        if len(w) > 2:
            c = rng.randrange(len(w) - 1)
            words[at] = w[:c] + w[c + 1] + w[c] + w[c + 2:]
        else:
            words[at] = w + "s"
    elif op == 2:
        words[at] = rng.choice(WORDS)
    elif op == 3 and len(words) > 1:
        del words[at]
    else:
        words.insert(at, rng.choice(WORDS))
    return " ".join(words)


def _rewrite(text: str, rng: random.Random, fraction: float) -> str:
    """A different caption on the same template: `fraction` of the words replaced."""
    words = text.split()
    for at in rng.sample(range(len(words)), max(2, int(len(words) * fraction))):
        words[at] = rng.choice(WORDS)
    return " ".join(words)


def labelled_captions(n_families: int, seed: int = 0) -> tuple[list[str], list[int], list[str]]:
    """(captions, family, kind). A family is an original with its planted copies; family -1 marks
    captions that duplicate nothing on purpose (random or a heavy rewrite of another caption)."""
    rng = random.Random(seed)
    captions, family, kind = [], [], []
    for f in range(n_families):
        original = " ".join(rng.choice(WORDS) for _ in range(rng.randint(10, 22)))
        captions.append(original)
        family.append(f)
        kind.append("original")
        for _ in range(rng.choice([0, 0, 1, 1, 2, 3])):
            roll = rng.random()
            if roll < 0.3:
                captions.append(_variant(original, rng))
                kind.append("exact")
            else:
                captions.append(_near(original, rng))
                kind.append("near")
            family.append(f)
        if rng.random() < 0.3:  # a hard negative: same template, many words changed
            captions.append(_rewrite(original, rng, 0.4))
            family.append(-1)
            kind.append("rewrite")
    order = list(range(len(captions)))
    rng.shuffle(order)
    return [captions[i] for i in order], [family[i] for i in order], [kind[i] for i in order]


def work_table(captions: list[str], *, sources: list[str] | None = None, lang_scores: list | None = None,
               sample_ids: list[str] | None = None, tasks: list[str] | None = None,
               statuses: list[str] | None = None, copies: list[int] | None = None,
               media: list[list[str]] | None = None) -> pa.Table:
    """A WORK_SCHEMA table with a user image turn and an assistant caption turn per row."""
    n = len(captions)
    samples = []
    for i, caption in enumerate(captions):
        uris = media[i] if media else []
        user = [Segment(kind="image", media=m) for m in range(len(uris))] + [Segment(text="Describe the image.")]
        samples.append(Sample(
            sample_id=sample_ids[i] if sample_ids else f"s{i:05d}",
            source=sources[i] if sources else "web",
            task=tasks[i] if tasks else "caption",
            turns=[Turn(role="user", segments=user), Turn(role="assistant", segments=[Segment(text=caption)])],
            media=[Media(uri=u) for u in uris],
        ))
    table = with_work_columns(records_to_table(samples))
    if lang_scores is not None:
        table = table.set_column(table.schema.get_field_index("lang_score"), "lang_score",
                                 pa.array(lang_scores, pa.float32()))
    if statuses is not None:
        table = table.set_column(table.schema.get_field_index("status"), "status", pa.array(statuses, pa.string()))
    if copies is not None:
        table = table.set_column(table.schema.get_field_index("copy"), "copy", pa.array(copies, pa.int32()))
    assert n == table.num_rows
    return table


def kept_index(table: pa.Table) -> list[int]:
    """For each row, the position of the row it is kept as (itself unless it is a duplicate)."""
    ids = {s: i for i, s in enumerate(table.column("sample_id").to_pylist())}
    return [ids[d] if d is not None else i for i, d in enumerate(table.column("dup_of").to_pylist())]
