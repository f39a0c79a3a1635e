"""Moves of items between packs after best fit: close mergeable packs, spread copies of one sample
over different packs, make the remainder proportional, and fill packs up to their bucket's edge.

Every move keeps all three limits (LLM tokens C, ViT patches P, images M) and never adds a pack.
The phases of `packer.packing.plan_packs` call them in that order on one `PackState`.
"""

from __future__ import annotations

from bisect import bisect_left

import numpy as np


class PackState:
    """Items in bins with per-bin totals. Members of a bin come from a CSR snapshot of the initial
    assignment plus an overlay of the (few) items moved since, so a move costs O(1)."""

    def __init__(self, t: np.ndarray, p: np.ndarray, m: np.ndarray, bin_of: np.ndarray, C: int, P: int, M: int):
        self.t, self.p, self.m = t, p, m
        self.C, self.P, self.M = C, P, M
        self.bin = bin_of.astype(np.int64, copy=True)
        n_bins = int(self.bin.max()) + 1 if self.bin.size else 0
        self.T = np.bincount(self.bin, weights=t, minlength=n_bins).astype(np.int64)
        self.Pq = np.bincount(self.bin, weights=p, minlength=n_bins).astype(np.int64)
        self.Im = np.bincount(self.bin, weights=m, minlength=n_bins).astype(np.int64)
        self._order: np.ndarray | None = None  # CSR snapshot, made on the first members() call
        self._start: np.ndarray | None = None
        self._moved_in: dict[int, list[int]] = {}

    @property
    def n_bins(self) -> int:
        return int(self.T.shape[0])

    def members(self, b: int) -> list[int]:
        """Items in bin b, in increasing item order."""
        if self._order is None:
            self._order = np.argsort(self.bin, kind="stable")
            self._start = np.searchsorted(self.bin[self._order], np.arange(self.n_bins + 1))
            self._moved_in = {}
        snap = self._order[self._start[b] : self._start[b + 1]]
        out = snap[self.bin[snap] == b].tolist()
        extra = [i for i in self._moved_in.get(b, ()) if self.bin[i] == b]
        return sorted(set(out + extra)) if extra else out

    def move(self, i: int, to: int) -> None:
        fr = int(self.bin[i])
        if fr == to:
            return
        t, p, m = int(self.t[i]), int(self.p[i]), int(self.m[i])
        self.T[fr] -= t
        self.Pq[fr] -= p
        self.Im[fr] -= m
        self.T[to] += t
        self.Pq[to] += p
        self.Im[to] += m
        self.bin[i] = to
        self._moved_in.setdefault(to, []).append(i)

    def fits_swap(self, x: int, y: int) -> bool:
        """Whether items x and y (in different bins) can trade places within the limits."""
        bx, by = int(self.bin[x]), int(self.bin[y])
        dt, dp, dm = int(self.t[y] - self.t[x]), int(self.p[y] - self.p[x]), int(self.m[y] - self.m[x])
        return (self.T[bx] + dt <= self.C and self.Pq[bx] + dp <= self.P and self.Im[bx] + dm <= self.M
                and self.T[by] - dt <= self.C and self.Pq[by] - dp <= self.P and self.Im[by] - dm <= self.M)

    def fits_move(self, i: int, b: int) -> bool:
        """Whether item i fits into bin b (not its own) within the limits."""
        return (self.T[b] + self.t[i] <= self.C and self.Pq[b] + self.p[i] <= self.P
                and self.Im[b] + self.m[i] <= self.M)

    def swap(self, x: int, y: int) -> None:
        bx, by = int(self.bin[x]), int(self.bin[y])
        self.move(x, by)
        self.move(y, bx)

    def renumbered(self) -> np.ndarray:
        """The bin of every item, with empty bins removed (the others keep their order)."""
        used = np.bincount(self.bin, minlength=self.n_bins) > 0
        new_id = np.cumsum(used) - 1
        return new_id[self.bin]


# ---------------------------------------------------------------------------------------------
# closing: no two packs left that fit together


def _range_min_table(v: np.ndarray) -> list[np.ndarray]:
    """Sparse table for range minimum queries (levels of doubling windows)."""
    table = [v]
    w = 1
    while 2 * w <= v.shape[0]:
        prev = table[-1]
        table.append(np.minimum(prev[:-w], prev[w:]))
        w *= 2
    return table


def _range_min(table: list[np.ndarray], lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """min(v[lo:hi]) per query (hi > lo)."""
    length = hi - lo
    k = np.floor(np.log2(np.maximum(length, 1))).astype(np.int64)
    out = np.empty(lo.shape[0], table[0].dtype)
    for lvl in np.unique(k).tolist():
        sel = k == lvl
        a = table[lvl]
        out[sel] = np.minimum(a[lo[sel]], a[hi[sel] - (1 << lvl)])
    return out


def close_packs(state: PackState, group: np.ndarray | None = None) -> int:
    """Merge packs that fit together in all three limits until no two do; returns the merges.
    With ``group`` (copy groups), a merge that would put two copies of a sample in one pack is
    not made.

    For a mergeable pair the one with fewer tokens has at most C/2, and its partner has at most
    C - its tokens: a range of the bins sorted by tokens. Range minima of patches and images rule
    out most candidates at once; the rest are checked exactly, and each merges into its fullest
    partner (best fit on tokens)."""
    C, P, M = state.C, state.P, state.M
    merges = 0
    while True:
        alive = np.flatnonzero((state.T > 0) | (state.Pq > 0) | (state.Im > 0))
        if alive.shape[0] < 2:
            return merges
        order = alive[np.lexsort((alive, state.T[alive]))]
        T, Pq, Im = state.T[order], state.Pq[order], state.Im[order]
        cand = np.flatnonzero(T * 2 <= C)
        if not cand.size:
            return merges
        hi = np.searchsorted(T, C - T[cand], side="right")  # partners at positions cand+1 .. hi-1
        ok = hi > cand + 1
        cand, hi = cand[ok], hi[ok]
        if not cand.size:
            return merges
        pt, mt = _range_min_table(Pq), _range_min_table(Im)
        lo = cand + 1
        ok = (_range_min(pt, lo, hi) <= P - Pq[cand]) & (_range_min(mt, lo, hi) <= M - Im[cand])
        changed = np.zeros(order.shape[0], bool)
        done = 0
        for a, h in zip(cand[ok].tolist(), hi[ok].tolist()):
            if changed[a]:
                continue
            fits = np.flatnonzero((Pq[a + 1 : h] <= P - Pq[a]) & (Im[a + 1 : h] <= M - Im[a]) & ~changed[a + 1 : h])
            if not fits.size:
                continue
            src = int(order[a])
            mine = _groups_in(state, group, src) if group is not None else set()
            dst = -1
            for f in fits[::-1][:64].tolist():  # the fullest partner in tokens first
                b = a + 1 + f
                if not mine or not (mine & _groups_in(state, group, int(order[b]))):
                    dst = int(order[b])
                    break
            if dst < 0:
                continue
            for i in state.members(src):
                state.move(i, dst)
            changed[a] = changed[b] = True
            done += 1
        merges += done
        if not done:
            return merges


# ---------------------------------------------------------------------------------------------
# copies of one sample go to different packs


def spread_copies(state: PackState, group: np.ndarray) -> int:
    """Move apart copies of one sample (items with equal ``group`` >= 0) that share a pack: swap
    one copy with an item of about its tokens in another pack where both fit, or move it into a
    pack with room; returns how many copies still share a pack."""
    shared = shared_copies(state.bin, group)
    if not shared.size:
        return 0
    by_t = np.argsort(state.t, kind="stable")
    t_sorted = state.t[by_t]
    left = 0
    for x in shared.tolist():
        if not _move_apart(state, group, x, by_t, t_sorted):
            left += 1
    return left


def shared_copies(bin_of: np.ndarray, group: np.ndarray) -> np.ndarray:
    """Items whose group already has an earlier item in the same bin."""
    idx = np.flatnonzero(group >= 0)
    if not idx.size:
        return idx
    o = idx[np.lexsort((idx, group[idx], bin_of[idx]))]
    dup = (bin_of[o[1:]] == bin_of[o[:-1]]) & (group[o[1:]] == group[o[:-1]])
    return np.sort(o[1:][dup])


def _groups_in(state: PackState, group: np.ndarray, b: int) -> set[int]:
    return {int(group[i]) for i in state.members(b) if group[i] >= 0}


def _move_apart(state: PackState, group: np.ndarray, x: int, by_t: np.ndarray, t_sorted: np.ndarray,
                tries: int = 512) -> bool:
    bx, gx = int(state.bin[x]), int(group[x])
    mine = _groups_in(state, group, bx)
    # 1. swap with an item of about the same tokens (nearest first) where both fit
    at = int(np.searchsorted(t_sorted, state.t[x]))
    n = by_t.shape[0]
    for k in range(tries):
        j = at + k // 2 if k % 2 == 0 else at - 1 - k // 2
        if not 0 <= j < n:
            continue
        y = int(by_t[j])
        by = int(state.bin[y])
        if by == bx or (group[y] >= 0 and int(group[y]) in mine) or not state.fits_swap(x, y):
            continue
        if gx in _groups_in(state, group, by):
            continue
        state.swap(x, y)
        return True
    # 2. move into a pack with room
    room = np.flatnonzero((state.T + state.t[x] <= state.C) & (state.Pq + state.p[x] <= state.P)
                          & (state.Im + state.m[x] <= state.M))
    for b in room[:64].tolist():
        if b != bx and gx not in _groups_in(state, group, b):
            state.move(x, b)
            return True
    return False


# ---------------------------------------------------------------------------------------------
# a remainder drawn proportionally from every label


def proportional_remainder(state: PackState, n_drop: int, label: np.ndarray | None,
                           group: np.ndarray | None, live: np.ndarray | None = None) -> np.ndarray:
    """Choose ``n_drop`` packs to leave out and trade items between them and the kept packs until
    every label's count among the left-out items is its share of them rounded (largest
    remainders), so within one item of the exact share: the remainder then does not skew the mix.

    Without labels the least filled packs go (ties: the later ones), so the fewest samples are
    lost. With labels the packs are picked one at a time among the least filled ones (the
    ``32 · n_drop + 64`` least filled), each time the one that brings the left-out label counts
    closest to their shares; then a trade takes a kept item of about the same tokens that fits in
    the other's place. Returns the left-out bins (sorted)."""
    if n_drop <= 0:
        return np.zeros(0, np.int64)
    nb = state.n_bins
    live = np.ones(nb, bool) if live is None else live
    cand = np.flatnonzero(live)
    by_fill = cand[np.lexsort((-cand, state.T[cand]))]
    if label is None or not label.size:
        return np.sort(by_fill[:n_drop])
    n_labels = int(label.max()) + 1
    drop = _pick_by_mix(state, by_fill[: 32 * n_drop + 64], n_drop, label, n_labels)
    is_drop = np.zeros(nb, bool)
    is_drop[drop] = True
    in_drop = is_drop[state.bin]
    n_out = int(in_drop.sum())
    target = _largest_remainders(np.bincount(label, minlength=n_labels) / label.shape[0] * n_out)
    have = np.bincount(label[in_drop], minlength=n_labels)
    kept_by_label = {}
    for lab in range(n_labels):
        k = np.flatnonzero((label == lab) & ~in_drop)
        kept_by_label[lab] = k[np.argsort(state.t[k], kind="stable")]
    blocked: set[tuple[int, int]] = set()
    while True:
        gap = have - target
        pairs = [(hi, lo) for hi in np.argsort(-gap, kind="stable").tolist() if gap[hi] > 0
                 for lo in np.argsort(gap, kind="stable").tolist() if gap[lo] < 0 and (hi, lo) not in blocked]
        if not pairs:
            _settle_by_moves(state, label, n_labels, is_drop, in_drop, live, group)
            return drop
        hi, lo = pairs[0]
        xs = np.flatnonzero(in_drop & (label == hi))[:64]
        for x in xs.tolist():
            y = _partner(state, x, kept_by_label[lo], group, is_drop)
            if y >= 0:
                state.swap(x, y)
                in_drop[x], in_drop[y] = False, True
                have[hi] -= 1
                have[lo] += 1
                kept_by_label[lo] = kept_by_label[lo][kept_by_label[lo] != y]
                break
        else:
            blocked.add((hi, lo))


def _settle_by_moves(state: PackState, label: np.ndarray, n_labels: int, is_drop: np.ndarray, in_drop: np.ndarray,
                     live: np.ndarray, group: np.ndarray | None, max_moves: int = 16) -> None:
    """Where one-for-one trades found no partner (e.g. a label of short samples against one of long
    ones), move single items instead: a kept item into a left-out pack with room, or a left-out item
    into a kept pack with room, whichever brings every label's left-out count closest to its share
    of the left-out items, until each is within one item of it. Only packs of two or more items give
    one up, so no pack empties and the pack counts stay; copies of a sample never meet."""
    share = np.bincount(label, minlength=n_labels) / label.shape[0]
    drop_bins = np.flatnonzero(is_drop)
    kept_bins = np.flatnonzero(live & ~is_drop)
    size = np.bincount(state.bin, minlength=state.n_bins)
    for _ in range(max_moves):
        have = np.bincount(label[in_drop], minlength=n_labels).astype(np.float64)
        n_out = float(in_drop.sum())
        dev = have - share * n_out
        if np.abs(dev).max() < 1.0:
            return
        best = None  # (max |dev| after, item, bin)
        for lab in range(n_labels):
            for into_drop in (True, False):
                step = 1.0 if into_drop else -1.0
                after = dev - step * share
                after[lab] += step
                score = float(np.abs(after).max())
                if best is not None and score >= best[0]:
                    continue
                src = (label == lab) & (in_drop != into_drop) & (size[state.bin] >= 2)
                items = np.flatnonzero(src)
                items = items[np.argsort(state.t[items], kind="stable")][:64]
                for x in items.tolist():
                    targets = drop_bins if into_drop else kept_bins
                    ok = [b for b in targets.tolist() if b != state.bin[x] and state.fits_move(x, b)
                          and not (group is not None and group[x] >= 0 and int(group[x]) in _groups_in(state, group, b))]
                    if ok:
                        best = (score, x, ok[0], into_drop)
                        break
        if best is None or best[0] >= float(np.abs(dev).max()):
            return
        _, x, b, into_drop = best
        size[state.bin[x]] -= 1
        size[b] += 1
        state.move(x, b)
        in_drop[x] = into_drop


def _pick_by_mix(state: PackState, cand: np.ndarray, n_drop: int, label: np.ndarray, n_labels: int) -> np.ndarray:
    """n_drop of the candidate bins whose label counts stay closest to the labels' shares
    (`pick_by_composition`)."""
    share = np.bincount(label, minlength=n_labels) / label.shape[0]
    pos = {int(b): i for i, b in enumerate(cand.tolist())}
    comp = np.zeros((cand.shape[0], n_labels))
    rows = np.flatnonzero(np.isin(state.bin, cand))
    np.add.at(comp, (np.asarray([pos[int(b)] for b in state.bin[rows].tolist()], np.int64), label[rows]), 1.0)
    return np.sort(cand[pick_by_composition(comp, share, n_drop)])


def pick_by_composition(comp: np.ndarray, share: np.ndarray, n: int) -> np.ndarray:
    """Greedy: n of the candidates (rows of ``comp``: counts per label) whose summed counts stay
    closest (L1) to ``share`` of their total; ties go to the earlier candidate. Returns their
    indices in the order picked."""
    have = np.zeros(comp.shape[1])
    free = np.ones(comp.shape[0], bool)
    out = []
    for _ in range(min(n, comp.shape[0])):
        tot = have + comp  # each candidate added
        dev = np.abs(tot - share * tot.sum(axis=1, keepdims=True)).sum(axis=1)
        dev[~free] = np.inf
        i = int(np.argmin(dev))
        free[i] = False
        have += comp[i]
        out.append(i)
    return np.asarray(out, np.int64)


def _largest_remainders(quota: np.ndarray) -> np.ndarray:
    """Integers summing to round(Σ quota), each floor or ceil of its quota."""
    base = np.floor(quota).astype(np.int64)
    short = int(round(float(quota.sum()))) - int(base.sum())
    if short > 0:
        base[np.lexsort((np.arange(quota.shape[0]), -(quota - base)))[:short]] += 1
    return base


def _partner(state: PackState, x: int, candidates: np.ndarray, group: np.ndarray | None, is_drop: np.ndarray) -> int:
    """A kept item of about x's tokens that can trade places with x; -1 if none."""
    if not candidates.size:
        return -1
    at = int(np.searchsorted(state.t[candidates], state.t[x]))
    bx = int(state.bin[x])
    for k in range(64):
        for j in (at + k, at - 1 - k):
            if 0 <= j < candidates.shape[0]:
                y = int(candidates[j])
                by = int(state.bin[y])
                if is_drop[by] or not state.fits_swap(x, y):
                    continue
                if group is not None and (group[x] >= 0 or group[y] >= 0):
                    if group[x] >= 0 and int(group[x]) in _groups_in(state, group, by):
                        continue
                    if group[y] >= 0 and int(group[y]) in _groups_in(state, group, bx):
                        continue
                return y
    return -1


# ---------------------------------------------------------------------------------------------
# packs filled up to their ViT bucket's edge


def fill_to_bucket_edges(state: PackState, buckets: np.ndarray, frozen: np.ndarray | None = None,
                         group: np.ndarray | None = None, rounds: int = 4) -> int:
    """Move one image item out of a pack whose patches sit just over a bucket edge, into another
    pack that keeps its own bucket and has room for the item's tokens and images: the first pack
    drops into a smaller bucket and no pack is added. Items go by best fit on the receivers'
    bucket slack, largest first, each receiver taking one item per round. Returns the moves."""
    b = np.sort(np.asarray(buckets, np.int64))
    if b.size < 2:
        return 0
    nb = state.n_bins
    frozen = np.zeros(nb, bool) if frozen is None else frozen
    moves = 0
    for _ in range(rounds):
        x = state.Pq
        k = np.searchsorted(b, x, side="left")
        if int(k.max(initial=0)) >= b.size:
            return moves  # a pack over the largest bucket: the buckets are stale
        lower = np.where(k > 0, b[np.maximum(k - 1, 0)], -1)
        excess = np.where((x > 0) & (k > 0) & ~frozen, x - lower, -1)
        slack = np.where(x > 0, b[np.minimum(k, b.size - 1)] - x, 0)
        # receivers: packs with bucket slack and some token and image room (checked per item)
        recv = np.flatnonzero(~frozen & (slack > 0) & (state.T < state.C) & (state.Im < state.M))
        if not recv.size:
            return moves
        room_t = int((state.C - state.T[recv]).max())
        room_p = int(slack[recv].max())
        room_m = int((state.M - state.Im[recv]).max())
        # donors: per pack, its smallest image item with patches >= the excess that fits the
        # roomiest receiver in every limit
        item_bin = state.bin
        ex = excess[item_bin]
        cand = np.flatnonzero((state.p > 0) & (ex > 0) & (state.p >= ex) & (state.t <= room_t)
                              & (state.p <= room_p) & (state.m <= room_m))
        if not cand.size:
            return moves
        cand = cand[np.lexsort((cand, state.p[cand], item_bin[cand]))]
        first = np.ones(cand.size, bool)
        first[1:] = item_bin[cand[1:]] != item_bin[cand[:-1]]
        donors = cand[first]
        is_donor = np.zeros(nb, bool)
        is_donor[item_bin[donors]] = True
        recv = recv[~is_donor[recv]]
        if not recv.size:
            return moves
        recv = recv[np.lexsort((recv, slack[recv]))]
        rslack = slack[recv].tolist()
        room_t_r = (state.C - state.T[recv]).tolist()
        room_m_r = (state.M - state.Im[recv]).tolist()
        recv_l = recv.tolist()
        nxt = list(range(recv.size + 1))  # next untaken receiver at or after i
        done = 0
        order = donors[np.lexsort((donors, -state.p[donors]))]
        budget = 8 * len(recv_l)  # donor tries: receivers are the scarce side
        for i, pi, ti, mi in zip(order.tolist(), state.p[order].tolist(), state.t[order].tolist(),
                                 state.m[order].tolist()):
            if budget <= 0 or done == len(recv_l):
                break
            budget -= 1
            j = next_free(nxt, bisect_left(rslack, pi))
            for _ in range(8):
                if j >= len(recv_l):
                    break
                if room_t_r[j] >= ti and room_m_r[j] >= mi:
                    r = recv_l[j]
                    if group is None or group[i] < 0 or int(group[i]) not in {
                            int(group[v]) for v in state.members(r) if group[v] >= 0}:
                        state.move(i, r)
                        nxt[j] = j + 1
                        done += 1
                        break
                j = next_free(nxt, j + 1)
        moves += done
        if done * 1000 < nb:  # negligible progress: another round would not pay for itself
            return moves
    return moves


def next_free(nxt: list[int], i: int) -> int:
    """The first untaken index >= i (union-find with path halving)."""
    while nxt[i] != i:
        nxt[i] = nxt[nxt[i]]
        i = nxt[i]
    return i
