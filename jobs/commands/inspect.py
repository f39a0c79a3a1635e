"""`vlpack inspect OUT [--pack ID | --step S --rank R [--micro M]] [--json]`: one pack, decoded.

Without a selector it lists the first packs (and how to pick one). Piped to a file it keeps every
column whole and marks supervised text with `SUPERVISED_MARKS` instead of colour; `--json` prints
one JSON object per pack (layout, samples with their supervised spans and text, images, checks).

The pack is read from its shard exactly as a trainer would read it: the manifest names the
shard, packs.parquet gives the pack's key, and the tar members KEY.json (the `PackLayout`),
KEY.tokens.npy, KEY.labels.npy and KEY.<i>.<ext> (media) are all there is. The command shows the
samples with their sources and token spans, the detokenised text with special tokens visible and
supervised tokens highlighted, the label spans, and each image's grid and planned size; it also
checks the pack against itself (labels are the input ids or -100, image spans hold pad tokens,
loss counts match the layout).
"""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

IGNORE_INDEX = -100
PAD_TOKENS = ("<|image_pad|>", "<|video_pad|>")
SUPERVISED_STYLE = "bold green"
SPECIAL_STYLE = "magenta"
SUPERVISED_MARKS = ("⟦", "⟧")  # around supervised text where there is no colour (a pipe, a file, NO_COLOR)
LIST_LIMIT = 20  # packs listed when no pack is selected


class InspectError(RuntimeError):
    """The output directory or the pack asked for cannot be shown; the message says why."""


@dataclass
class PackView:
    """One pack as read from its shard."""

    row: dict  # the packs.parquet row
    layout: object  # schemas.manifest.PackLayout
    input_ids: np.ndarray
    labels: np.ndarray
    media: dict[str, int] = field(default_factory=dict)  # member suffix -> bytes


def load_manifest(out: Path):
    from schemas.manifest import MANIFEST_NAME, Manifest

    path = out / MANIFEST_NAME
    if not path.exists():
        raise InspectError(f"{out} has no {MANIFEST_NAME}: it is not a committed vlpack output (did the job finish?)")
    return Manifest.model_validate_json(path.read_text())


def select_packs(out: Path, pack: int | None, step: int | None, rank: int | None, micro: int | None) -> list[dict]:
    """The packs.parquet rows asked for: one pack id, or the packs of one (step, rank[, micro])."""
    import pyarrow.compute as pc

    from schemas.manifest import IndexPartError, read_index

    try:
        packs = read_index(out, load_manifest(out), "packs")
    except IndexPartError as err:
        raise InspectError(str(err)) from None
    n = packs.num_rows
    if pack is not None and (step is not None or rank is not None):
        raise InspectError("give either --pack ID or --step S --rank R, not both")
    if pack is None and (step is None) != (rank is None):
        raise InspectError("--step and --rank go together: give both, e.g. --step 0 --rank 0")
    if pack is None and step is None:
        return []  # nothing selected: the caller lists packs instead
    if pack is not None:
        sel = packs.filter(pc.equal(packs.column("pack_id"), pack))
        if not sel.num_rows:
            raise InspectError(f"pack {pack} does not exist; {out} has packs 0..{n - 1}")
        return sel.to_pylist()
    sel = packs.filter(pc.and_(pc.equal(packs.column("step"), step), pc.equal(packs.column("rank"), rank)))
    if micro is not None:
        sel = sel.filter(pc.equal(sel.column("micro"), micro))
    if not sel.num_rows:
        steps = int(pc.max(packs.column("step")).as_py() or 0) + 1 if n else 0
        ranks = int(pc.max(packs.column("rank")).as_py() or 0) + 1 if n else 0
        raise InspectError(f"no pack at step {step}, rank {rank}" + (f", micro {micro}" if micro is not None else "")
                           + f"; {out} has steps 0..{steps - 1} and ranks 0..{ranks - 1}")
    return sel.sort_by([("micro", "ascending"), ("pack_id", "ascending")]).to_pylist()


def read_pack(out: Path, manifest, row: dict) -> PackView:
    """Read one pack's members from its shard (only shards the manifest lists are read)."""
    from schemas.manifest import PackLayout

    listed = {s.path for s in manifest.shards}
    if row["shard"] not in listed:
        raise InspectError(f"pack {row['pack_id']}: shard {row['shard']} is not listed in the manifest")
    key = row["key"]
    members: dict[str, bytes] = {}
    with tarfile.open(out / row["shard"], mode="r:") as tar:
        for info in tar:
            if info.isfile() and info.name.startswith(key + "."):
                members[info.name[len(key) + 1:]] = tar.extractfile(info).read()
    for need in ("json", "tokens.npy", "labels.npy"):
        if need not in members:
            raise InspectError(f"{row['shard']}: member {key}.{need} is missing")
    layout = PackLayout.model_validate_json(members["json"])
    ids = np.load(io.BytesIO(members["tokens.npy"]), allow_pickle=False)
    labels = np.load(io.BytesIO(members["labels.npy"]), allow_pickle=False)
    media = {k: len(v) for k, v in members.items() if k not in ("json", "tokens.npy", "labels.npy")}
    return PackView(row=row, layout=layout, input_ids=ids, labels=labels, media=media)


def label_spans(labels: np.ndarray, start: int = 0, stop: int | None = None) -> list[tuple[int, int]]:
    """[begin, end) runs of supervised positions (labels != -100) within [start, stop)."""
    stop = len(labels) if stop is None else stop
    sup = np.asarray(labels[start:stop]) != IGNORE_INDEX
    if not sup.any():
        return []
    edges = np.diff(np.concatenate([[0], sup.astype(np.int8), [0]]))
    begins, ends = np.nonzero(edges == 1)[0], np.nonzero(edges == -1)[0]
    return [(int(b) + start, int(e) + start) for b, e in zip(begins, ends)]


def check_pack(view: PackView, special: dict[str, int]) -> list[str]:
    """Problems of a pack against its own layout (an empty list: consistent)."""
    lay, ids, labels = view.layout, view.input_ids, view.labels
    problems = []
    if len(ids) != lay.seq_len or len(labels) != lay.seq_len:
        problems.append(f"tokens {len(ids)} / labels {len(labels)} but seq_len {lay.seq_len}")
        return problems
    sup = labels != IGNORE_INDEX
    if np.any(labels[sup] != ids[sup]):
        problems.append(f"{int(np.sum(labels[sup] != ids[sup]))} supervised labels differ from their input ids")
    if sup[lay.real_tokens:].any():
        problems.append("padding positions are supervised")
    for i, s in enumerate(lay.samples):
        n = int(sup[s.offset:s.offset + s.length].sum())
        if n != s.loss_tokens:
            problems.append(f"sample {i} ({s.id}): {n} supervised tokens, layout says {s.loss_tokens}")
    pad_ids = {special.get(p) for p in PAD_TOKENS} - {None}
    for i, im in enumerate(lay.images):
        span = ids[im.offset:im.offset + im.tokens]
        if pad_ids and not np.isin(span, list(pad_ids)).all():
            problems.append(f"image {i}: tokens [{im.offset}, {im.offset + im.tokens}) are not all pad tokens")
        frames = _frame_members(view, im)
        if im.frames is not None and len(frames) != len(im.frames):
            problems.append(f"video {i}: {len(frames)} frame members {im.member}* in the shard, layout lists "
                            f"{len(im.frames)} frames")
        elif im.frames is None and im.member not in view.media:
            problems.append(f"{im.kind} {i}: member {im.member} is missing from the shard")
    if view.row["real_tokens"] != lay.real_tokens:
        problems.append(f"packs.parquet real_tokens {view.row['real_tokens']} != layout {lay.real_tokens}")
    return problems


def _frame_members(view: PackView, im) -> list[str]:
    """The tar members of a video's sampled frames (KEY.<i>.f<frame>.<ext>)."""
    if im.frames is None:
        return []
    return sorted(k for k in view.media if k.startswith(im.member) and k != im.member)


def render_tokens(ids: np.ndarray, labels: np.ndarray, tok, max_chars: int, marks: bool = False) -> Text:
    """Detokenised text: special tokens visible, pad runs collapsed (`<|image_pad|>×N`),
    supervised tokens highlighted (and, with `marks`, enclosed in `SUPERVISED_MARKS`)."""
    text = _render_tokens(ids, labels, tok, max_chars)
    if not marks:
        return text
    runs: list[list[int]] = []  # supervised [start, end) runs, adjacent spans merged
    for span in sorted((s for s in text.spans if s.style == SUPERVISED_STYLE), key=lambda s: s.start):
        if runs and runs[-1][1] == span.start:
            runs[-1][1] = span.end
        else:
            runs.append([span.start, span.end])
    marked = Text()
    pos = 0
    for start, end in runs:
        marked.append_text(text[pos:start])
        marked.append(SUPERVISED_MARKS[0])
        marked.append_text(text[start:end])
        marked.append(SUPERVISED_MARKS[1])
        pos = end
    marked.append_text(text[pos:])
    return marked


def _render_tokens(ids: np.ndarray, labels: np.ndarray, tok, max_chars: int) -> Text:
    text = Text()
    if tok is None:
        text.append(" ".join(str(int(i)) for i in ids[:max_chars // 6]))
        return text
    special = {v: k for k, v in tok.special.items()}
    sup = labels != IGNORE_INDEX
    i, n = 0, len(ids)
    while i < n and len(text) < max_chars:
        t = int(ids[i])
        if t in special:
            j = i
            while j < n and int(ids[j]) == t and special[t] in PAD_TOKENS + ("<|endoftext|>",):
                j += 1
            j = max(j, i + 1)
            name = special[t] + (f"×{j - i}" if j - i > 1 else "")
            text.append(name, style=SUPERVISED_STYLE if sup[i] else SPECIAL_STYLE)
            i = j
            continue
        j = i
        while j < n and int(ids[j]) not in special and sup[j] == sup[i]:
            j += 1
        text.append(tok.decode(ids[i:j].tolist()), style=SUPERVISED_STYLE if sup[i] else "")
        i = j
    if i < n:
        text.append(f" … ({n - i:,} more tokens; raise --max-chars)", style="dim")
    return text


def show_pack(console: Console, view: PackView, tok, max_chars: int, show_text: bool, special: dict[str, int]) -> bool:
    """Print one pack; False if it fails its self-checks."""
    lay, ids, labels = view.layout, view.input_ids, view.labels
    loss = int(np.sum(labels != IGNORE_INDEX))
    console.print(Text(f"── pack {lay.pack_id}  ·  step {lay.step}  rank {lay.rank}  micro {lay.micro} ──",
                       style="bold"))
    head = Table(show_header=False, box=None)
    head.add_column(style="bold")
    head.add_column()
    head.add_row("shard", f"{view.row['shard']}  (key {view.row['key']})")
    head.add_row("tokens", f"{lay.real_tokens:,} real of seq_len {lay.seq_len:,} "
                           f"({lay.real_tokens / lay.seq_len:.1%} fill, {lay.seq_len - lay.real_tokens:,} padding)")
    head.add_row("loss tokens", f"{loss:,} supervised positions (labels != {IGNORE_INDEX})")
    vb = view.row["vit_bucket"]
    head.add_row("ViT", f"{view.row['vit_patches']:,} patches" + (
        f", padded to bucket {vb:,}" if vb and vb != view.row["vit_patches"] else " (no patch bucket padding)"))
    head.add_row("cost", f"attention {view.row['attn_cost']:.6g}, ViT {view.row['vit_cost']:.6g}")
    if view.row.get("is_filler"):
        head.add_row("filler", "yes (padding pack; the trainer skips its loss)")
    if view.row.get("repeat_of", -1) >= 0:
        head.add_row("repeat of", str(view.row["repeat_of"]))
    console.print(head)

    st = Table(title="samples", title_justify="left")
    for c in ("#", "sample_id", "copy", "source", "task", "token span", "tokens", "loss", "supervised spans", "images"):
        st.add_column(c, justify="right" if c in ("#", "copy", "tokens", "loss", "images") else "left")
    for i, s in enumerate(lay.samples):
        spans = label_spans(labels, s.offset, s.offset + s.length)
        n_img = sum(1 for im in lay.images if im.sample == i)
        st.add_row(str(i), s.id, str(s.copy_index), s.source, s.task, f"[{s.offset}, {s.offset + s.length})",
                   f"{s.length:,}", f"{s.loss_tokens:,}", ", ".join(f"[{a}, {b})" for a, b in spans) or "-", str(n_img))
    console.print(st)

    if lay.images:
        it = Table(title="images and videos", title_justify="left")
        for c in ("#", "sample", "kind", "member", "pad token span", "pad tokens", "grid (t, h, w)", "ViT patches",
                  "planned size (w × h)", "bytes"):
            it.add_column(c)
        for i, im in enumerate(lay.images):
            t, h, w = im.grid_thw
            frames = _frame_members(view, im)
            size = sum(view.media[k] for k in frames) if frames else view.media.get(im.member)
            it.add_row(str(i), str(im.sample), im.kind, im.member, f"[{im.offset}, {im.offset + im.tokens})",
                       f"{im.tokens:,}", f"({t}, {h}, {w})", f"{t * h * w:,}",
                       f"{im.target_size[0]} × {im.target_size[1]}",
                       (f"{size:,} ({len(frames)} frames)" if frames else f"{size:,}") if size is not None else "missing")
        console.print(it)

    if show_text:
        marks = console.color_system is None  # no colour: mark supervised text in the text itself
        legend = Text("text: ")
        if marks:
            legend.append(f"{SUPERVISED_MARKS[0]}supervised (label = token){SUPERVISED_MARKS[1]}")
        else:
            legend.append("supervised (label = token)", style=SUPERVISED_STYLE)
        legend.append("  ")
        legend.append("<|special|>", style=SPECIAL_STYLE)
        legend.append("  plain: not supervised")
        console.print(legend)
        for i, s in enumerate(lay.samples):
            sl = slice(s.offset, s.offset + s.length)
            console.print(Text(f"── sample {i}: {s.id} ({s.source}/{s.task}) ──", style="bold"))
            console.print(render_tokens(ids[sl], labels[sl], tok, max_chars, marks), soft_wrap=True)
        if lay.real_tokens < lay.seq_len:
            pad = render_tokens(ids[lay.real_tokens:], labels[lay.real_tokens:], tok, 200, marks)
            console.print(Text("── padding: ", style="bold") + pad)

    problems = check_pack(view, special)
    for p in problems:
        console.print(f"[bold red]inconsistent:[/] {p}", highlight=False)
    if not problems:
        console.print("[green]checks:[/] labels match input ids, loss counts and image spans match the layout")
    return not problems


def pack_json(view: PackView, tok, max_chars: int, show_text: bool, special: dict[str, int]) -> dict:
    """One pack as a JSON-able dict: the packs.parquet row, the samples with their token spans and
    supervised spans (and text), the images, and the self-check problems."""
    lay, ids, labels = view.layout, view.input_ids, view.labels
    samples = []
    for i, s in enumerate(lay.samples):
        spans = label_spans(labels, s.offset, s.offset + s.length)
        item = {"index": i, "id": s.id, "copy": s.copy_index, "source": s.source, "task": s.task,
                "token_span": [s.offset, s.offset + s.length], "tokens": s.length, "loss_tokens": s.loss_tokens,
                "supervised_spans": [list(sp) for sp in spans]}
        if show_text:
            sl = slice(s.offset, s.offset + s.length)
            item["text"] = render_tokens(ids[sl], labels[sl], tok, max_chars).plain
            item["supervised_text"] = [render_tokens(ids[a:b], labels[a:b], tok, max_chars).plain for a, b in spans]
        samples.append(item)
    images = [{"index": i, "sample": im.sample, "kind": im.kind, "member": im.member,
               "pad_token_span": [im.offset, im.offset + im.tokens], "grid_thw": list(im.grid_thw),
               "target_size": list(im.target_size)} for i, im in enumerate(lay.images)]
    problems = check_pack(view, special)
    return {"pack": {k: v for k, v in view.row.items()}, "seq_len": lay.seq_len, "real_tokens": lay.real_tokens,
            "loss_tokens": int(np.sum(labels != IGNORE_INDEX)), "samples": samples, "images": images,
            "problems": problems, "consistent": not problems}


def list_packs(out: Path, limit: int = LIST_LIMIT) -> tuple[list[dict], int]:
    """The first `limit` packs.parquet rows (pack_id order) and the number of packs."""
    from schemas.manifest import IndexPartError, read_index

    try:
        packs = read_index(out, load_manifest(out), "packs", columns=[
            "pack_id", "step", "rank", "micro", "n_samples", "real_tokens", "seq_len", "is_filler", "shard"])
    except IndexPartError as err:
        raise InspectError(str(err)) from None
    return packs.sort_by("pack_id").slice(0, limit).to_pylist(), packs.num_rows


def _show_list(console: Console, out: Path, rows: list[dict], n: int) -> None:
    t = Table(title=f"{out}: {n:,} packs" + (f" (the first {len(rows)})" if n > len(rows) else ""),
              title_justify="left")
    for c in ("pack_id", "step", "rank", "micro", "samples", "real tokens", "seq_len", "filler", "shard"):
        t.add_column(c, justify="left" if c == "shard" else "right")
    for r in rows:
        t.add_row(*(str(x) for x in (r["pack_id"], r["step"], r["rank"], r["micro"], r["n_samples"])),
                  f"{r['real_tokens']:,}", f"{r['seq_len']:,}", "yes" if r["is_filler"] else "", r["shard"])
    console.print(t)
    console.print("show one with --pack ID, or the packs of one rank in one step with --step S --rank R")


def register(app: typer.Typer) -> None:
    @app.command()
    def inspect(
        out: Path = typer.Argument(..., help="Output directory of a finished pack job."),
        pack: int | None = typer.Option(None, "--pack", min=0, help="Show this pack id."),
        step: int | None = typer.Option(None, "--step", min=0, help="Show the packs of this global step (with --rank)."),
        rank: int | None = typer.Option(None, "--rank", min=0, help="Data-parallel rank (with --step)."),
        micro: int | None = typer.Option(None, "--micro", min=0, help="Only this micro batch of (step, rank)."),
        max_chars: int = typer.Option(4000, "--max-chars", min=100, help="Characters of text shown per sample."),
        text: bool = typer.Option(True, "--text/--no-text", help="Show the detokenised text."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON (one object per pack, or the pack list)."),
    ) -> None:
        """Show one pack decoded: samples, token spans, text, label masks, image grids and sizes.

        Without --pack or --step/--rank, list the first packs. Exit code 2 when the output or the pack
        cannot be read, 1 when a pack fails its self-checks."""
        import json

        from jobs.commands.run import _fail

        console = Console() if Console().is_terminal else Console(width=100_000)  # a file: never cut a column
        try:
            manifest = load_manifest(out)
            rows = select_packs(out, pack, step, rank, micro)
            if not rows:
                listed, n = list_packs(out)
            views = [read_pack(out, manifest, r) for r in rows]
        except (InspectError, OSError, tarfile.TarError) as err:
            _fail(str(err))
        if not rows:
            if as_json:
                typer.echo(json.dumps({"n_packs": n, "packs": listed}))
            else:
                _show_list(console, out, listed, n)
            return
        tok = None
        try:
            from packer.tokenizer import load_tokenizer

            tok = load_tokenizer(manifest.tokenizer or "qwen")
        except Exception as err:  # noqa: BLE001 - show ids rather than nothing
            Console(stderr=True).print(f"[yellow]warning:[/] cannot load tokenizer {manifest.tokenizer!r} ({err}); "
                                       "showing token ids", highlight=False)
        special = dict(manifest.special_tokens or (tok.special if tok is not None else {}))
        if tok is not None and manifest.special_tokens and any(tok.special.get(k) != v
                                                               for k, v in manifest.special_tokens.items()):
            Console(stderr=True).print("[yellow]warning:[/] the tokenizer's special token ids differ from the manifest's")
        if as_json:
            packs = [pack_json(v, tok, max_chars, text, special) for v in views]
            for p in packs:
                typer.echo(json.dumps(p, ensure_ascii=False))
            consistent = [p["consistent"] for p in packs]
        else:
            consistent = [show_pack(console, v, tok, max_chars, text, special) for v in views]
        if not all(consistent):
            raise typer.Exit(1)
