#!/usr/bin/env bash
# Create .venv and install seoga into it. torch is pinned to the local CPU build first, so that
# nothing pulls the multi-GB CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
# Tesseract (kor+eng) for OCR of scans, and a Korean font for its tests (root + apt only).
bash scripts/system.sh
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[dev,bench]"
# Causal analysis: DoWhy for graphs, identification and refuters. DoWhy 0.14 (the newest) caps
# scipy at 1.15.3, which mlxtend 0.25 cannot use, though it runs on today's scipy; so its own
# dependencies come from the `causal` extra and DoWhy itself without them.
python -m pip install --quiet -e ".[causal]"
python -m pip install --quiet --no-deps "dowhy==0.14"
