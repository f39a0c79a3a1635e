#!/usr/bin/env bash
# Set up vlpack in ./.venv on a fresh machine: Python 3.11 venv, the CPU build of torch from the
# local wheel (a plain `torch` requirement would pull a multi-GB CUDA build), then the project with
# its train, hf and dev extras. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for cand in python3.11 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY=$cand; break; fi
  done
fi
"$PY" -c 'import sys; assert sys.version_info >= (3, 10), sys.version' || {
  echo "vlpack needs Python >= 3.10 (3.11 recommended); found $("$PY" --version)" >&2; exit 1; }
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip >/dev/null
if ! .venv/bin/python -c 'import torch' >/dev/null 2>&1; then
  # Ascend or GPU users: install your own torch (+ torch_npu) into .venv first; this step is skipped.
  .venv/bin/python -m pip install -q "torch==2.13.0"
fi
.venv/bin/python -m pip install -q -e ".[train,hf,dev]"
echo "vlpack is set up in .venv ($(.venv/bin/python --version))"
