"""Media probing, token counting, tokenizer adapters, bin packing, step balancing, shard writing,
statistics and reports. Works on pyarrow tables and numpy arrays; never imports jobs/ or ray.
"""
