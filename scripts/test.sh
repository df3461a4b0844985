#!/usr/bin/env bash
# Set up, then run the checks CI runs: formatting, lint, tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/browser.sh
. .venv/bin/activate
ruff format --check .
ruff check .
python -m pytest -q
