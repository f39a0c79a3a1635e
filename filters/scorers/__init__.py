"""Model-based scorers (NSFW, CLIP image-text relevance, LM text quality and loops).

Pure model code: each scorer loads its model once from a local path and scores whole lists of
images or texts. `scoring.score_table` applies them to a WORK_SCHEMA table. Ray's actor pool
(`jobs/scorer_stage.py`) holds one set of loaded scorers per actor. Heavy imports (onnxruntime,
torch, transformers) happen inside the scorers, so importing this package stays light.
"""
