"""Golden values of near-dedup's seeded pieces: shingle hashes, MinHash permutations, signatures and
band bucket keys. Stored outputs: a failure means the same corpus and seed now pick other duplicates
(or representatives). If deliberate, update the values in the same commit and say so."""

from __future__ import annotations

import numpy as np

from filters.dedup.minhash import EMPTY, MinHasher, band_bucket_keys
from filters.dedup.shingles import char_shingle_hashes

TEXTS = ["a red cat", "a red hat", ""]


def test_shingle_hashes_golden_values():
    hashes, offsets = char_shingle_hashes(["abcd", "é"], 3)
    assert [hex(int(h)) for h in hashes] == ["0x8df9dbc6932ee93", "0x771af7edbc1a8662", "0xe062b280a45258c4"]
    assert offsets.tolist() == [0, 2, 3]  # "abc", "bcd"; a text shorter than n is one shingle


def test_minhash_permutations_golden_values():
    m = MinHasher(8, 0)
    assert m.a.tolist() == [456333311, 3759225951, 1774763617, 424618511, 3767225165, 531254611, 1766724269,
                            3308482441]
    assert m.b.tolist() == [1530664017, 4131106214, 3110265811, 2870176875, 4165953232, 1462818603, 617303164,
                            3867834825]
    m = MinHasher(4, 12345)
    assert m.a.tolist() == [3278320767, 861087131, 1342066275, 4278824875]
    assert m.b.tolist() == [2122276402, 1739864738, 2919427535, 472667015]
    assert (m.a % 2 == 1).all()  # odd multipliers: bijections of the 32-bit hashes


def test_signatures_and_band_keys_golden_values():
    sig = MinHasher(4, 12345).text_signatures(TEXTS, 3)
    assert sig.tolist() == [[85213351, 361866959, 710607348, 1124621202],
                            [85213351, 361866959, 710607348, 785684989],
                            [EMPTY] * 4]
    keys = band_bucket_keys(sig, 2, 2, np.array([0, 0, 1], np.uint64))
    assert [hex(int(k)) for k in keys.ravel()] == [
        "0x2dd1c08ec28310", "0x1083e2fb8e345f5",  # the two near-duplicates share band 0
        "0x2dd1c08ec28310", "0x10d05cc13625f32",
        "0xbe32b0fc07ddc1", "0x13d39a3bac8511d"]
