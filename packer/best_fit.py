"""The best-fit-decreasing engine of `packer.packing`: integer items into bins with three limits.

A bin holds at most C LLM tokens, P ViT patches and M images. Its state is (R, Q, I): the tokens,
patches and images it has left. Every comparison is on those exact integers; nothing is rounded.

How best fit runs in O(n log C): numpy plus a lean Python loop
----------------------------------------------------------------
Exact best fit in three dimensions would need "the bin with the smallest R >= t among bins with
Q >= p and I >= m". Instead every item gets a *class* and each class keeps its own
one-dimensional index of bins, keyed in tokens:

- class 0 holds text-only items (p = m = 0); the key is R and an item's size is t: exact.
- a media class stands for items with at most rho_j patches per token, rho_j = (1/4, 1/2, 1, 2) ·
  P / C, and for an image need: one image (items with m <= 1) or two or more (m >= 2). A bin's
  key is ``min(R, floor(Q / rho_j))``, or 0 when it has fewer images left than the class needs
  (1 or 2); an item's size is ``max(t, ceil(p / rho_j))``. Size <= key is *sufficient* for the
  tokens and patches, and q · size <= key for q such items, so a run of equal-size items is placed
  a bucket at a time. Images are never folded into the token key: a one-image item is as large as
  its tokens, whatever the image limit, and an item with more than two images is checked against
  the bin's image room directly (a bin without room for the run's worst item sits out that run).
  An item takes the smallest ratio class whose ratio is >= its own, so its size is t unless it
  has more than 2 · P / C patches per token.

Each class's buckets (one min-heap of bin ids per key 0..C; equal keys go to the oldest bin) sit
behind a two-level bitmap of Python ints that finds the smallest non-empty key >= size in a few
word operations. Moving a bin only pushes it to its new key (keys never grow); stale entries are
skipped when popped. Every bucket visit places at least one item, so the work is O(n log C) at
worst and far less with many equal lengths.

Order, in three phases (ties: class, then the caller's order key, then item index, so the plan is
deterministic):
0. items over half a bin, by decreasing size, best fit (no two of them share a bin);
1. the *scarce kind*, levelled by worst fit over lower-bound many bins (empty ones are opened
   first): where tokens bind overall, the media-heavy items (more patches or images per token
   than a full bin has); where patches or images bind, the token-heavy ones. Packed by best fit,
   they would fill bins with one resource and leave room of the other that nothing later can use;
   levelled, every bin keeps its share of each;
2. everything else by decreasing size, best fit. Text-only items see the true token room of every
   bin, so they fill what media-heavy items leave.
A run that finds no bin opens new ones, each with as many items as the worst items of the run
allow; topping them up with the same run packs worse than leaving the slack to later items.

Where tokens bind and there are media items, the media are dealt first instead (`deal_media`).
Where patches bind (image-caption data), every bin must end nearly full in patches, and small
images are token-heavy while large ones are patch-heavy. The levelled best fit above leaves its
last bins full of tokens with patches to spare (0.39% over the lower bound on a million captions
of the scale bench), so a second plan is made (`deal_by_patches`: the media dealt by patches, the
deal's token-heavy left-overs traded into the dealt bins for patch-heavy items) and the one with
fewer bins is kept (on a tie, the one with fewer once bins that fit together are merged).
"""

from __future__ import annotations

from bisect import bisect_left
from heapq import heappop, heappush

import numpy as np

from packer.pack_moves import PackState, close_packs, next_free

# Ratio classes for items with patches: rho_j = (a / b) · max_vit_patches / context_length.
RATIO_CLASSES: tuple[tuple[int, int], ...] = ((1, 4), (1, 2), (1, 1))
# Image needs of the two families of media classes: one image at most, two or more.
IMAGE_GATES: tuple[int, ...] = (1,)


class KeySet:
    """A set of keys in 0..size-1 with "smallest key >= s": a two-level bitmap of Python ints
    (64-bit words plus one bit per non-empty word)."""

    __slots__ = ("words", "top")

    def __init__(self, size: int):
        self.words = [0] * ((size >> 6) + 1)
        self.top = 0

    def add(self, k: int) -> None:
        w = k >> 6
        x = self.words[w]
        if not x:
            self.top |= 1 << w
        self.words[w] = x | (1 << (k & 63))

    def discard(self, k: int) -> None:
        w = k >> 6
        x = self.words[w] & ~(1 << (k & 63))
        self.words[w] = x
        if not x:
            self.top &= ~(1 << w)

    def last(self) -> int:
        """The largest key, or -1."""
        if not self.top:
            return -1
        w = self.top.bit_length() - 1
        return (w << 6) + self.words[w].bit_length() - 1

    def first_at_least(self, s: int) -> int:
        w = s >> 6
        if w >= len(self.words):
            return -1
        x = self.words[w] >> (s & 63)
        if x:
            return s + (x & -x).bit_length() - 1
        t = self.top >> (w + 1)
        if not t:
            return -1
        w += (t & -t).bit_length()
        x = self.words[w]
        return (w << 6) + (x & -x).bit_length() - 1


def item_classes(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int) -> tuple[np.ndarray, np.ndarray, list[int], list[int], list[int]]:
    """Class of every item and its size in that class, plus per class (qnum, qden, gate): the key
    of a bin in class c is ``min(R, Q · qnum // qden)`` when it has >= gate images left."""
    J = len(RATIO_CLASSES)
    qnum = [0] + [C * b for _ in IMAGE_GATES for a, b in RATIO_CLASSES]
    qden = [1] + [P * a for _ in IMAGE_GATES for a, b in RATIO_CLASSES]
    gate = [0] + [g for g in IMAGE_GATES for _ in RATIO_CLASSES]
    cls = np.zeros(t.shape[0], np.int64)
    size = t.copy()
    media = (p > 0) | (m > 0)
    if not media.any():
        return cls, size, qnum, qden, gate
    tm, pm, mm = t[media], p[media], m[media]
    cm = np.full(tm.shape[0], J, np.int64)  # the last ratio class of the family (1-based)
    # smallest ratio class with p / t <= rho_j = qden / qnum  <=>  p * qnum <= t * qden
    for j in range(J, 0, -1):
        cm[pm * qnum[j] <= tm * qden[j]] = j
    qn = np.asarray(qnum, np.int64)[cm]
    qd = np.asarray(qden, np.int64)[cm]
    size[media] = np.maximum(tm, -(-(pm * qn) // qd))  # ceil(p / rho_j)
    family = np.searchsorted(np.asarray(IMAGE_GATES), mm, side="right") - 1  # m >= gate
    cls[media] = np.maximum(family, 0) * J + cm
    return cls, size, qnum, qden, gate


def scarce_items(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int) -> np.ndarray:
    """The items phase 1 levels: unlike the resource that binds overall (module docstring)."""
    tt, tp, tm = int(t.sum()) * P * M, int(p.sum()) * C * M, int(m.sum()) * C * P
    if tt >= tp and tt >= tm:  # tokens bind: spread the media-heavy items
        return (p * C > t * P) | (m * C > t * M)
    if tp >= tm:  # patches bind: spread the token-heavy ones
        return p * C < t * P
    return m * C < t * M  # images bind


def _fill_by_images(t: np.ndarray, p: np.ndarray, m: np.ndarray, R: list[int], Q: list[int], Im: list[int],
                    C: int, P: int, M: int, n_bins: int) -> np.ndarray:
    """Where images bind: every bin should end with M images and room for text. Bins that already
    hold a long item (little token room) first take the image items with the fewest tokens; the
    other image items (by decreasing images, then tokens, then index) are levelled over
    ``n_bins`` bins (empty ones are opened first): each goes to the bin with the most token room
    among those with room for its images and patches. The open bins R, Q, Im are updated in place and new
    ones appended; returns the bin of each item.

    Bins are indexed per image room (1..M) by their token room; a bin out of image room leaves
    the index: only text can join it now."""
    n = t.shape[0]
    out = np.empty(n, np.int64)
    levels: dict[int, tuple[KeySet, dict[int, list[int]]]] = {}
    live_levels = KeySet(M + 1)

    def file(b: int) -> None:
        i, r = Im[b], R[b]
        if i <= 0 or r <= 0:
            return
        if i not in levels:
            levels[i] = (KeySet(C + 1), {})
        ks, bk = levels[i]
        lst = bk.setdefault(r, [])
        if not lst:
            ks.add(r)
            live_levels.add(i)
        heappush(lst, b)

    def top(lvl: int) -> int:
        """The largest live token room of image room lvl (stale heads dropped); -1 if none."""
        ks, bk = levels[lvl]
        while True:
            r = ks.last()
            if r < 0:
                live_levels.discard(lvl)
                return -1
            lst = bk[r]
            while lst and (Im[lst[0]] != lvl or R[lst[0]] != r):
                heappop(lst)
            if lst:
                return r
            ks.discard(r)

    # the bins already holding a long item (little token room) first take the image items with
    # the fewest tokens, tightest bin first, up to their image room
    tight = sorted((r, b) for b, r in enumerate(R) if r < C)
    used = np.zeros(n, bool)
    if tight:
        small = np.lexsort((np.arange(n), -m, t)).tolist()
        ts, ps, ms = t.tolist(), p.tolist(), m.tolist()
        start = 0
        for _, b in tight:
            k = start
            while k < n and Im[b] > 0:
                j = small[k]
                if ts[j] > R[b]:
                    break
                if not used[j] and ms[j] <= Im[b] and ps[j] <= Q[b]:
                    used[j] = True
                    out[j] = b
                    R[b] -= ts[j]
                    Q[b] -= ps[j]
                    Im[b] -= ms[j]
                k += 1
            while start < n and used[small[start]]:
                start += 1
    while len(R) < n_bins:
        R.append(C)
        Q.append(P)
        Im.append(M)
    for b in range(len(R)):
        file(b)
    order = np.lexsort((np.arange(n), -t, -m))
    order = order[~used[order]]
    for j, tj, pj, mj in zip(order.tolist(), t[order].tolist(), p[order].tolist(), m[order].tolist()):
        chosen, best_r, skipped = -1, -1, []
        while True:
            best_r, best_l = -1, -1
            lvl = live_levels.first_at_least(mj)
            while lvl >= 0:
                r = top(lvl)
                if r > best_r:
                    best_r, best_l = r, lvl
                lvl = live_levels.first_at_least(lvl + 1)
            if best_r < tj:
                break
            b = heappop(levels[best_l][1][best_r])
            if Q[b] >= pj:
                chosen = b
                break
            skipped.append(b)  # no room for these patches: back in after this item
        for b in skipped:
            file(b)
        chosen = out[j] = _put(R, Q, Im, chosen, tj, pj, mj, C, P, M)
        file(chosen)
    return out


def best_fit_decreasing(
    t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int, order_key: np.ndarray | None = None,
    level_media: bool = True,
) -> np.ndarray:
    """Assign every item (each of which fits an empty bin) to a bin; returns the bin per item,
    numbered in the order bins were opened.

    ``order_key`` (small non-negative ints) orders items of equal size and class before their
    index: the caller passes each item's copy number, so that copies of one sample are apart in
    a run and go to different bins. With ``level_media`` and tokens binding, the media items are
    first dealt over lower-bound many bins so that every bin gets about the same patches
    (`deal_media`); the rest goes by best fit. Where patches bind, two plans are made and the
    one with fewer bins is kept: best fit with the scarce kind levelled (module docstring), and
    `deal_by_patches`; on a tie, the one with fewer bins once bins that fit together are merged
    (`plan_packs` merges them next), and on a tie there too levelled best fit. Where images bind,
    the same two (best fit levelling images; the deal by patches): images binding alone does not
    say which of tokens and patches is next, and either can leave bins the other fills (e.g. 5
    bins against 3, `tests/packer/test_packing.py`'s exact packer). Where tokens bind
    or in the deal by patches, a deal that puts items over half a bin together is kept only where
    it leaves fewer bins than one bin each (`_paired_if_fewer`). Neither plan wins on every mix:
    the deal fills bins to within a small image's patches and wins where many small images remain
    to level them; best fit wins where large images dominate the end of the deal. The deal's
    trades do not look at ``order_key``: they may put copies of one sample in one bin, which
    `packer.pack_moves.spread_copies` moves apart in `plan_packs` (as it does for the few a run
    leaves together)."""
    t, p, m = (np.asarray(a, np.int64) for a in (t, p, m))  # products of sizes and limits stay exact
    n = t.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    bind = binding(t, p, m, C, P, M)
    if level_media and bind == "tokens" and bool((p > 0).any()):

        def dealt(pair: bool) -> np.ndarray:
            out, R, Q, Im = deal_media(t, p, m, C, P, M, order_key, pair=pair)
            rest = np.flatnonzero(out < 0)
            if rest.size:
                out[rest] = _best_fit_runs(t[rest], p[rest], m[rest], C, P, M,
                                           None if order_key is None else order_key[rest], "plain", R, Q, Im)
            return out

        return _paired_if_fewer(dealt, t, p, m, C, P, M)
    mode = "images" if bind == "images" else "scarce"
    out = _best_fit_runs(t, p, m, C, P, M, order_key, mode, [], [], [])
    if level_media and bind in ("patches", "images") and bool((p > 0).any()):
        dealt = deal_by_patches(t, p, m, C, P, M, order_key)
        nd, nl = int(dealt.max()), int(out.max())
        if nd < nl or (nd == nl and _closed_bins(dealt, t, p, m, C, P, M)
                                    < _closed_bins(out, t, p, m, C, P, M)):
            return dealt
    return out


def _closed_bins(out: np.ndarray, t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int) -> int:
    """The bins of a plan once bins that fit together are merged (`close_packs`, which
    `plan_packs` runs next on the plan kept)."""
    return int(out.max()) + 1 - close_packs(PackState(t, p, m, out, C, P, M))


def deal_by_patches(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int,
                    order_key: np.ndarray | None) -> np.ndarray:
    """Where patches bind: every bin must end nearly full in patches. The media items are dealt
    by their patches over lower-bound many bins (`deal_media`), the items the deal left over are
    traded into the dealt bins for patch-heavy ones (`exchange_leftovers`), and the rest (the text,
    the pulled items) goes by best fit. Returns the bin per item."""
    t, p, m = (np.asarray(a, np.int64) for a in (t, p, m))  # products of sizes and limits stay exact

    def dealt(pair: bool) -> np.ndarray:
        out, R, Q, Im = deal_media(t, p, m, C, P, M, order_key, by_patches=True, pair=pair)
        rest = np.flatnonzero(out < 0)
        if rest.size:
            rest = exchange_leftovers(t, p, m, out, R, Q, Im, C, P)
        if rest.size:
            out[rest] = _best_fit_runs(t[rest], p[rest], m[rest], C, P, M,
                                       None if order_key is None else order_key[rest], "plain", R, Q, Im)
        return out

    return _paired_if_fewer(dealt, t, p, m, C, P, M)


def over_half(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int) -> np.ndarray:
    """Items over half a bin in some limit: no two over half in the same limit fit together."""
    return (t * 2 > C) | (p * 2 > P) | (m * 2 > M)


def _paired_if_fewer(dealt, t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int,
                     M: int) -> np.ndarray:
    """``dealt(pair)`` with the items over half a bin paired (`big_item_bins`) where that leaves
    fewer bins than one bin each; on a tie, or where none shared a bin, one bin each (the plan
    as it was). A pairing by best fit on tokens can take the token room that a small item with
    many patches needed beside a long text, so the deal is made both ways where it paired any."""
    out = dealt(True)
    big = over_half(t, p, m, C, P, M)
    if np.unique(out[big]).shape[0] == int(big.sum()):  # no two share a bin: one bin each already
        return out
    alone = dealt(False)
    return out if int(out.max()) < int(alone.max()) else alone


def binding(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int) -> str:
    """The resource with the largest lower bound: "tokens", "patches" or "images"."""
    tt, tp, tm = int(t.sum()) * P * M, int(p.sum()) * C * M, int(m.sum()) * C * P
    if tm > tt and tm > tp:
        return "images"
    return "patches" if tp > tt else "tokens"


def deal_media(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int,
               order_key: np.ndarray | None, by_patches: bool = False,
               pair: bool = True) -> tuple[np.ndarray, list[int], list[int], list[int]]:
    """Where tokens (or patches) bind: items over half a bin in some limit open one each (two over
    half in one limit never fit together); with ``pair``, where that would open more bins than
    the lower bound, those not over half in tokens join a bin where they fit instead
    (`big_item_bins`: an item over half the patches or the images may well fit beside a long
    text).
    The other media items, by decreasing media load (their share of a bin's patches plus their
    share of its images; with ``by_patches``, where patches bind, their patches alone: every bin
    must end nearly full in patches, and an image count in the load would leave them uneven), are
    dealt a lap at a time over the other bins of a lower-bound many, each lap's largest item to the
    least loaded bin (LPT): every bin gets about the same patches (and images, unless
    ``by_patches``) — few, similar ViT inputs (shape buckets with little padding, ViT cost alike
    across packs).
    Bins holding an item over half a bin get none: best fit fills their little room. A bin keeps
    the longest prefix of its dealt items that fits; the others, and the text, are left for best
    fit. Returns (bin per item, -1 if left; R, Q, Im of the bins)."""
    n = t.shape[0]
    big = over_half(t, p, m, C, P, M)
    out = np.full(n, -1, np.int64)
    bi = np.flatnonzero(big)
    bi = bi[np.lexsort((bi, -t[bi]))]
    lb = max(-(-int(t.sum()) // C), -(-int(p.sum()) // P), -(-int(m.sum()) // M), 1)
    out[bi] = big_item_bins(t[bi], p[bi], m[bi], C, P, M, lb if pair else n)
    n_big = int(out[bi].max()) + 1 if bi.size else 0
    n_bins = max(n_big, lb)
    media = np.flatnonzero(~big & ((p > 0) | (m > 0)))
    # the media load of an item: its share of a bin's patches plus its share of a bin's images
    # (scaled by P·M to integers), so that neither limit fills up unevenly; by decreasing load,
    # then tokens, then order key, then index (one stable sort key)
    w = p if by_patches else p * M + m * P
    sk = (int(w[media].max(initial=0)) - w[media]) * (C + 1) + (C - t[media])
    if order_key is not None and order_key.size and int(order_key.max()) > 0:
        sk = sk * (int(order_key.max()) + 1) + order_key[media]
    media = media[np.argsort(sk, kind="stable")]
    r = np.arange(media.shape[0])
    T0 = np.bincount(out[bi], weights=t[bi], minlength=n_bins).astype(np.int64)
    P0 = np.bincount(out[bi], weights=p[bi], minlength=n_bins).astype(np.int64)
    M0 = np.bincount(out[bi], weights=m[bi], minlength=n_bins).astype(np.int64)
    # LPT a lap at a time: the lap's largest item goes to the least loaded bin
    dealt = np.empty(media.shape[0], np.int64)
    load = P0.copy() if by_patches else P0 * M + M0 * P
    # bins holding a long item take no dealt media: best fit fills their little room
    bins = np.arange(n_big, n_bins) if n_bins > n_big else np.arange(n_bins)
    for lo in range(0, media.shape[0], bins.shape[0]):
        lap = media[lo : lo + bins.shape[0]]
        to = bins[np.lexsort((bins, load[bins]))[: lap.shape[0]]]
        dealt[lo : lo + lap.shape[0]] = to
        load[to] += w[lap]
    # per bin, in dealing order: keep the prefix that fits
    o = np.lexsort((r, dealt))
    b_sorted = dealt[o]
    start = np.searchsorted(b_sorted, b_sorted, side="left")
    keep = np.ones(o.shape[0], bool)
    for v, v0, cap in ((t, T0, C), (p, P0, P), (m, M0, M)):
        cs = np.cumsum(v[media[o]])
        before = np.where(start > 0, cs[np.maximum(start - 1, 0)], 0)
        keep &= (cs - before) + v0[b_sorted] <= cap
    out[media[o[keep]]] = b_sorted[keep]
    Tt = np.bincount(out[out >= 0], weights=t[out >= 0], minlength=n_bins).astype(np.int64)
    Pt = np.bincount(out[out >= 0], weights=p[out >= 0], minlength=n_bins).astype(np.int64)
    Mt = np.bincount(out[out >= 0], weights=m[out >= 0], minlength=n_bins).astype(np.int64)
    return out, (C - Tt).tolist(), (P - Pt).tolist(), (M - Mt).tolist()


def _put(R: list[int], Q: list[int], Im: list[int], b: int, tj: int, pj: int, mj: int, C: int, P: int,
         M: int) -> int:
    """Put an item (tj tokens, pj patches, mj images) in bin `b` (a new bin where `b` < 0) and take
    it from the bin's rooms R, Q, Im; returns the bin."""
    if b < 0:
        b = len(R)
        R.append(C)
        Q.append(P)
        Im.append(M)
    R[b] -= tj
    Q[b] -= pj
    Im[b] -= mj
    return b


def big_item_bins(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int, bound: int = 0,
                  tries: int = 64) -> np.ndarray:
    """Bins for items each over half a bin in some limit (tokens, patches or images), in the
    given order (`deal_media`: by decreasing tokens, then index); returns the bin per item,
    numbered in the order the bins were opened.

    Two items over half in the same limit never fit together, so the items over half in tokens
    (first in this order) open a bin each. The others (over half the patches or the images) open
    one each too while that leaves at most ``bound`` bins (the deal opens lower-bound many
    anyway, and best fit fills the little room of these): the plan is as it was. Beyond that,
    one bin per item would open bins the bound does not need, so an item goes into the open bin
    with the least token room that holds it in all three limits (the oldest on a tie; at most
    ``tries`` bins are looked at): e.g. a sample over half the patches beside a long text."""
    n = t.shape[0]
    out = np.empty(n, np.int64)
    R: list[int] = []
    Q: list[int] = []
    Im: list[int] = []
    rooms = KeySet(C + 1)  # token rooms of the open bins
    at: dict[int, list[int]] = {}  # token room -> min-heap of bins (stale entries skipped)
    for j, tj, pj, mj in zip(range(n), t.tolist(), p.tolist(), m.tolist()):
        b = -1
        if tj * 2 <= C and len(R) + n - j > bound:
            looked = 0
            r = rooms.first_at_least(tj)
            while r >= 0 and b < 0 and looked < tries:
                lst, back = at[r], []
                while lst and looked < tries:
                    x = heappop(lst)
                    if R[x] != r:
                        continue
                    looked += 1
                    if Q[x] >= pj and Im[x] >= mj:
                        b = x
                        break
                    back.append(x)
                for x in back:
                    heappush(lst, x)
                if not lst:
                    rooms.discard(r)
                r = rooms.first_at_least(r + 1) if r < C else -1
        b = out[j] = _put(R, Q, Im, b, tj, pj, mj, C, P, M)
        lst = at.setdefault(R[b], [])
        if not lst:
            rooms.add(R[b])
        heappush(lst, b)
    return out


def exchange_leftovers(t: np.ndarray, p: np.ndarray, m: np.ndarray, out: np.ndarray, R: list[int],
                       Q: list[int], Im: list[int], C: int, P: int) -> np.ndarray:
    """Where patches bind, after `deal_media`: the media items the deal left over (``out`` -1) are
    the last and smallest of the deal, and small images are token-heavy (their text weighs more
    against their patches). Every dealt bin is full in patches to within less than such an item,
    so these would open new bins of their own that their tokens fill while most of those bins'
    patches stay unused. Instead a patch-heavy dealt item (fewer tokens per patch than a full bin)
    is pulled out of its bin and left-over items fill the hole it leaves, largest first; a trade is
    kept when the bin ends no emptier in patches than it was, or emptier by at most the smallest
    left-over item. Trades stop once the media still to place (the pulled items and the left-overs
    no trade took; the text comes after, by best fit) are bound by their patches: they then fill
    new bins in patches, the binding resource. Patch-heaviest items are pulled first (then the
    largest, then by index), and a bin is traded into once; ``out`` and the bins' room R, Q, Im are
    updated in place. Returns the items still to place: the text, the pulled items and the
    left-over items no trade took."""
    rest = np.flatnonzero(out < 0)
    media = rest[p[rest] > 0]
    need_t, need_p = int(t[media].sum()), int(p[media].sum())
    if not media.size or need_t * P <= need_p * C:
        return rest
    pool = media[np.lexsort((media, -p[media]))]  # largest patches first
    neg_p = (-p[pool]).tolist()  # ascending: bisect finds the first item of at most a given size
    pool_l, ts, ps, ms = pool.tolist(), t.tolist(), p.tolist(), m.tolist()
    nxt = list(range(len(pool_l) + 1))  # next pool position still in the pool (`next_free`)
    smallest = len(pool_l) - 1  # the pool's last live position: its smallest item
    placed = np.flatnonzero((out >= 0) & (p > 0))
    heavy = placed[t[placed] * P < p[placed] * C]
    # a hole takes about its token room times the pool's patches per token of left-over items:
    # pulling an item whose hole would not be filled that far would most likely be refused
    room_t = np.asarray(R, np.int64)[out[heavy]] + t[heavy]
    heavy = heavy[(p[heavy] - int(p[media].min())) * need_t <= room_t * need_p]
    heavy = heavy[np.lexsort((heavy, -p[heavy], t[heavy] / p[heavy]))]
    traded: set[int] = set()
    for y in heavy.tolist():
        if smallest < 0 or need_t * P <= need_p * C:
            break
        b = int(out[y])
        if b in traded:
            continue
        hole_p, hole_t, hole_m = Q[b] + ps[y], R[b] + ts[y], Im[b] + ms[y]
        taken: list[int] = []
        i = next_free(nxt, bisect_left(neg_p, -hole_p))
        misses = 0
        while i <= smallest and misses < 64:
            x = pool_l[i]
            if ts[x] <= hole_t and ms[x] <= hole_m:
                taken.append(i)
                hole_p -= ps[x]
                hole_t -= ts[x]
                hole_m -= ms[x]
                i = next_free(nxt, max(i + 1, bisect_left(neg_p, -hole_p)))
            else:
                misses += 1
                i = next_free(nxt, i + 1)
        if not taken or hole_p > Q[b] + ps[pool_l[smallest]]:
            continue
        traded.add(b)
        for i in taken:
            x = pool_l[i]
            out[x] = b
            nxt[i] = i + 1
            need_t -= ts[x]
            need_p -= ps[x]
        out[y] = -1
        need_t += ts[y]
        need_p += ps[y]
        Q[b], R[b], Im[b] = hole_p, hole_t, hole_m
        while smallest >= 0 and next_free(nxt, smallest) != smallest:
            smallest -= 1
    return np.flatnonzero(out < 0)


def _best_fit_runs(t: np.ndarray, p: np.ndarray, m: np.ndarray, C: int, P: int, M: int,
                   order_key: np.ndarray | None, mode: str, R: list[int], Q: list[int], Im: list[int]) -> np.ndarray:
    """Best fit decreasing of the items into the open bins (R, Q, Im: their room, updated in
    place) and new ones. ``mode`` "scarce" levels the scarce kind first (phase 1), "images" fills
    by images first, "plain" is best fit only.

    Bins are indexed per class by their key (module docstring). A bucket is a min-heap of bin ids
    (equal keys: the oldest bin first); an entry is live while the bin's key in that class still
    equals the bucket's key (keys only decrease), so re-filing a bin only pushes, and stale
    entries are skipped when popped."""
    n = t.shape[0]
    if n == 0:
        return np.zeros(0, np.int64)
    cls, size, qnum, qden, gate = item_classes(t, p, m, C, P)
    ncls = len(qnum)
    spread = scarce_items(t, p, m, C, P, M) if mode == "scarce" else np.zeros(n, bool)
    n_level_bins = max(-(-int(t.sum()) // C), -(-int(p.sum()) // P), -(-int(m.sum()) // M))
    # phase 0: items over half a bin (best fit; no two share a bin); phase 1: the scarce kind,
    # levelled over lower-bound many bins (worst fit); phase 2: the rest (best fit). Within a
    # phase: decreasing size, then class, then order key, then item index (stable sort).
    by_images = mode == "images"
    if by_images:
        # images bind: the image items (phase 1) fill bins by images first (`_fill_by_images`)
        phase = np.where(size * 2 > C, 0, np.where(m > 0, 1, 2))
    else:
        phase = np.where(spread, 1, np.where(size * 2 > C, 0, 2))
    smax = int(size.max()) + 1
    sort_key = (phase * smax + (smax - 1 - size)) * ncls + cls
    if order_key is not None and order_key.size and int(order_key.max()) > 0:
        sort_key = sort_key * (int(order_key.max()) + 1) + order_key
    order = np.argsort(sort_key, kind="stable")
    run_key = (phase * smax + (smax - 1 - size)) * ncls + cls
    ks = run_key[order]
    cut = np.flatnonzero(np.diff(ks)) + 1
    run_lo = np.concatenate(([0], cut)).astype(np.int64)
    run_hi = np.concatenate((cut, [n])).astype(np.int64)
    ts, ps, ms = t[order], p[order], m[order]
    runs = zip(
        run_lo.tolist(),
        run_hi.tolist(),
        cls[order][run_lo].tolist(),
        size[order][run_lo].tolist(),
        (phase[order][run_lo] == 1).tolist(),
        np.maximum.reduceat(ts, run_lo).tolist(),
        np.maximum.reduceat(ps, run_lo).tolist(),
        np.maximum.reduceat(ms, run_lo).tolist(),
    )
    zero = np.zeros(1, np.int64)
    cum_t = np.concatenate((zero, np.cumsum(ts)))
    cum_p = np.concatenate((zero, np.cumsum(ps)))
    cum_m = np.concatenate((zero, np.cumsum(ms)))
    del ts, ps, ms

    key: list[list[int]] = [[-1] * len(R) for _ in range(ncls)]
    buckets = [[[] for _ in range(C + 1)] for _ in range(ncls)]
    keysets = [KeySet(C + 1) for _ in range(ncls)]
    placed_bin: list[int] = []  # (bin, count) in sorted item order
    placed_count: list[int] = []
    media_classes = list(zip(range(1, ncls), qnum[1:], qden[1:], gate[1:]))

    def refile(b: int, taken: int) -> None:
        """Recompute bin b's key in every class and file it where it changed (and in `taken`,
        the class it was popped from)."""
        r_, q_, i_ = R[b], Q[b], Im[b]
        kc = key[0]
        if r_ != kc[b] or taken == 0:
            kc[b] = r_
            if r_ > 0:
                lst = buckets[0][r_]
                if not lst:
                    keysets[0].add(r_)
                heappush(lst, b)
        for c, qn, qd, g in media_classes:
            if i_ < g:
                k = 0
            else:
                k = q_ * qn // qd
                if k > r_:
                    k = r_
            kc = key[c]
            if k != kc[b] or c == taken:
                kc[b] = k
                if k > 0:
                    lst = buckets[c][k]
                    if not lst:
                        keysets[c].add(k)
                    heappush(lst, b)

    for b in range(len(R)):
        refile(b, -1)
    levelled = False
    for lo, hi, c, s, worst, tmax, pmax, mmax in runs:
        if worst and by_images:
            if not levelled:
                levelled = True
                p1 = order[phase[order] == 1]  # the image items, in sorted order
                placed_bin.extend(_fill_by_images(t[p1], p[p1], m[p1], R, Q, Im, C, P, M, n_level_bins).tolist())
                placed_count.extend([1] * p1.shape[0])
                for kc in key:
                    kc.extend([-1] * (len(R) - len(kc)))
                for b in range(len(R)):
                    refile(b, -1)
            continue
        if worst and not levelled:
            levelled = True
            first = len(R)
            for _ in range(max(0, n_level_bins - first)):
                R.append(C)
                Q.append(P)
                Im.append(M)
                for kc in key:
                    kc.append(-1)
            for b in range(first, len(R)):
                refile(b, -1)
        pos = lo
        if c:
            pt = cum_t[lo : hi + 1].tolist()
            pp = cum_p[lo : hi + 1].tolist()
            pm = cum_m[lo : hi + 1].tolist()
        ks_c, bk_c, key_c = keysets[c], buckets[c], key[c]
        starved: list[int] = []  # bins without room for mmax more images: out for this run
        while pos < hi:
            if worst:
                r = ks_c.last()
                if r < s:
                    r = -1
            else:
                r = ks_c.first_at_least(s) if s <= C else -1
            if r < 0:
                # Open bins for the rest of the run, each with as many items as the worst items
                # of the run allow. Filling them further with this run packs worse: the slack
                # is better left to smaller items of other classes.
                if worst:
                    q0 = 1  # one item per new bin: the next item levels onto it again
                elif c == 0:
                    q0 = C // s
                else:
                    q0 = C // tmax
                    if pmax:
                        q0 = min(q0, P // pmax)
                    if mmax:
                        q0 = min(q0, M // mmax)
                first = len(R)
                while pos < hi and (not worst or len(R) == first):
                    b = len(R)
                    k = min(q0, hi - pos)
                    if c == 0:
                        R.append(C - k * s)
                        Q.append(P)
                        Im.append(M)
                    else:
                        a = pos - lo
                        R.append(C - (pt[a + k] - pt[a]))
                        Q.append(P - (pp[a + k] - pp[a]))
                        Im.append(M - (pm[a + k] - pm[a]))
                    for kc in key:
                        kc.append(-1)
                    placed_bin.append(b)
                    placed_count.append(k)
                    pos += k
                for b in range(first, len(R)):
                    refile(b, -1)
                if worst:
                    continue
                break
            lst = bk_c[r]
            touched = []
            if c == 0:
                q = 1 if worst else r // s
                while lst and pos < hi:
                    b = heappop(lst)
                    if key_c[b] != r:
                        continue
                    k = min(q, hi - pos)
                    R[b] -= k * s
                    placed_bin.append(b)
                    placed_count.append(k)
                    pos += k
                    touched.append(b)
            else:
                while lst and pos < hi:
                    b = heappop(lst)
                    if key_c[b] != r:
                        continue
                    # room for the worst items of the run: tokens and patches hold by the key;
                    # images beyond the class's gate are checked here
                    k = R[b] // tmax
                    if pmax:
                        k = min(k, Q[b] // pmax)
                    if mmax:
                        k = min(k, Im[b] // mmax)
                    if not k:
                        starved.append(b)
                        continue
                    k = min(k, hi - pos, 1 if worst else k)
                    a = pos - lo
                    R[b] -= pt[a + k] - pt[a]
                    Q[b] -= pp[a + k] - pp[a]
                    Im[b] -= pm[a + k] - pm[a]
                    placed_bin.append(b)
                    placed_count.append(k)
                    pos += k
                    touched.append(b)
            if not lst:
                ks_c.discard(r)
            for b in touched:
                refile(b, c)
        for b in starved:
            lst = bk_c[key_c[b]]
            if not lst:
                ks_c.add(key_c[b])
            heappush(lst, b)

    out = np.empty(n, np.int64)
    out[order] = np.repeat(np.asarray(placed_bin, np.int64), np.asarray(placed_count, np.int64))
    return out
