#!/usr/bin/env bash
# Set up, then run the demo: index the bundled bilingual corpus and search it
# (`bash scripts/demo.sh --serve` then serves it at http://127.0.0.1:8080/).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. .venv/bin/activate
seoga demo "$@"
