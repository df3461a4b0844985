#!/usr/bin/env bash
# Install what the page's browser tests need: Debian's Chromium (with a CJK font, so Hangul
# renders in screenshots) and the Playwright for Python built for that Chromium, driven through
# executable_path. Never `playwright install`: it downloads a browser. Where Chromium cannot be
# installed (no root, no package), the browser tests skip with that reason.
set -uo pipefail
cd "$(dirname "$0")/.."
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null 2>&1 \
        || { apt-get update -qq >/dev/null 2>&1 \
             && apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null 2>&1; } \
        || echo "chromium could not be installed: the browser tests will be skipped"
fi
command -v chromium >/dev/null 2>&1 || exit 0
major=$(chromium --version 2>/dev/null | grep -oE '[0-9]+' | head -1)
# The newest Playwright built for this Chromium or an older one (a newer browser keeps the
# protocol an older driver speaks).
version=$(awk -v major="$major" '!/^#/ && $1 <= major { chosen = $2 } END { print chosen }' \
    scripts/playwright-for-chromium.tsv)
if [ -z "$version" ]; then
    echo "no Playwright is listed for Chromium $major: the browser tests will be skipped"
    exit 0
fi
.venv/bin/python -m pip install --quiet "playwright==$version"
