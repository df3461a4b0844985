#!/usr/bin/env bash
# Create .venv and install seoga into it. torch is pinned to the local CPU build first, so that
# nothing pulls the multi-GB CUDA wheels.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
python -m pip install --quiet torch==2.13.0
python -m pip install --quiet -e ".[dev,bench]"
