#!/usr/bin/env bash
# Install the system packages seoga's readers use, with apt-get:
#   tesseract-ocr, tesseract-ocr-kor  OCR of scanned PDF pages and images (Korean + English);
#   fonts-nanum                       a Korean TrueType font the OCR tests draw their scans with.
# Already installed: nothing to do (no apt-get update), so repeated runs are fast. Not root, or
# no apt-get: say so and go on; the OCR tests then skip with that reason and scanned pages are
# reported as problems with this install hint.
set -uo pipefail
packages=(tesseract-ocr tesseract-ocr-kor fonts-nanum)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
        || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "system.sh: no apt-get; install ${missing[*]} yourself for OCR (its tests will skip)"
    exit 0
fi
if [ "$(id -u)" != 0 ]; then
    echo "system.sh: not root; run: sudo apt-get install ${missing[*]} (OCR tests will skip)"
    exit 0
fi
echo "system.sh: installing ${missing[*]}"
apt-get update -qq >/dev/null \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        "${missing[@]}" >/dev/null \
    || echo "system.sh: apt-get could not install ${missing[*]}: OCR tests will skip"
