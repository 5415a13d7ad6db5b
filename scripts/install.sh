#!/usr/bin/env bash
# Create the virtual environment and install kgqa with its test extras.
#
# torch: a machine with an NVIDIA GPU gets PyPI's default (CUDA) build; a CPU-only machine asks for
# torch==2.13.0, whose CPU wheel the project's build machines hold locally (pip's find-links), so no
# multi-GB CUDA download happens there. Override with TORCH_SPEC="torch==X.Y" (or any pip spec).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip)
"${PIP[@]}" install --quiet --upgrade pip

if [ -z "${TORCH_SPEC:-}" ]; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    TORCH_SPEC="torch"
  else
    TORCH_SPEC="torch==2.13.0"
  fi
fi
if ! "$VENV/bin/python" -c "import torch" >/dev/null 2>&1; then
  echo "installing $TORCH_SPEC"
  "${PIP[@]}" install --quiet "$TORCH_SPEC"
fi
"${PIP[@]}" install --quiet -e ".[${KGQA_EXTRAS:-test}]"
echo "kgqa installed in $VENV"
