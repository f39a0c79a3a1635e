"""Caption and text rules, language id, image-metadata rules and dedup.

Works on plain pyarrow tables; never imports jobs/ or ray.
"""
