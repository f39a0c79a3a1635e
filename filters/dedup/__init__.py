"""Exact and near-duplicate caption removal: MinHash over character n-grams, LSH banding,
verification by exact Jaccard, connected components and a deterministic representative.

Pure numpy / pyarrow; `jobs/dedup_stage.py` distributes the same steps on Ray (connected
components by large-star / small-star rounds, `stars`), and `dedupe_table` composes them in one
process.
"""

from filters.dedup.banding import CandidateGraph, band_rows, bucket_edges, shard_count
from filters.dedup.caption_key import exact_keys, normalise_caption, normalise_captions
from filters.dedup.clusters import connected_components, representatives
from filters.dedup.image_key import MediaReadError, media_digest
from filters.dedup.keeper import defect_counts, quality_order
from filters.dedup.local import dedupe_table
from filters.dedup.marking import located_duplicates, mark_duplicates, with_location
from filters.dedup.minhash import MinHasher, band_bucket_keys, candidate_probability, lsh_params
from filters.dedup.plan import DedupPlan, caption_rows, caption_texts, eligible_mask
from filters.dedup.resolve import resolve_clusters, verify_rows
from filters.dedup.shingles import char_shingle_hashes, unique_shingles
from filters.dedup.stars import merge_summaries, relink, star_components, summaries
from filters.dedup.stats import dedup_statistics, merge_statistics, partial_statistics
from filters.dedup.verify import pair_jaccard, text_pair_jaccard

__all__ = [
    "CandidateGraph", "DedupPlan", "MediaReadError", "MinHasher", "band_bucket_keys",
    "band_rows", "bucket_edges", "candidate_probability", "caption_rows", "caption_texts", "char_shingle_hashes",
    "connected_components", "dedup_statistics", "defect_counts", "dedupe_table", "eligible_mask", "exact_keys", "lsh_params",
    "media_digest", "normalise_caption", "normalise_captions", "pair_jaccard", "quality_order",
    "representatives", "resolve_clusters", "shard_count", "text_pair_jaccard", "unique_shingles",
    "verify_rows",
    "located_duplicates", "mark_duplicates", "merge_statistics", "merge_summaries", "partial_statistics", "relink",
    "star_components", "summaries", "with_location",
]
