#!/usr/bin/env bash
# Set up, then run the demo: index the bundled bilingual corpus and search it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
seoga demo
