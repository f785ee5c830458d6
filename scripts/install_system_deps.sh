#!/usr/bin/env bash
# Install the Debian packages the test suite drives from the outside (not Python packages:
# those come from `make setup`). Idempotent: a package already installed is not touched,
# and when everything is there the script does nothing, not even `apt-get update`.
#
# Runs as root, or through sudo when it is available. Without either (or on a machine
# without apt-get, e.g. macOS), it says what to install by hand and exits 0: the tests
# that need these programs then skip, naming the missing program.
#
# Usage: scripts/install_system_deps.sh        (or `make system-deps`)
set -euo pipefail

# ----------------------------------------------------------------------------------------
# SYSTEM_PACKAGES: the Debian packages the tests and `make eval` need, one per line with why.
# Add new ones here (and only here).
SYSTEM_PACKAGES=(
    libreoffice-calc-nogui   # headless `libreoffice`/`soffice`: review-sheet round trip (tests/test_review.py)
    chromium                 # headless browser: report.html renders offline, screenshot (tests/test_report.py)
    espeak-ng                # French speech synthesis: `make eval` audio, scripts/make_sample_audio.py
    sox                      # audio mixing for the same
    libsox-fmt-all           # ... and its .ogg/.flac writers
)
# ----------------------------------------------------------------------------------------

if ! command -v dpkg-query >/dev/null 2>&1 || ! command -v apt-get >/dev/null 2>&1; then
    echo "system-deps: no apt-get here (not Debian/Ubuntu?); install by hand if you want the"
    echo "system-deps: full test suite: ${SYSTEM_PACKAGES[*]}. Tests that need them will skip."
    exit 0
fi

missing=()
for pkg in "${SYSTEM_PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
    if [[ "$status" != "install ok installed" ]]; then
        missing+=("$pkg")
    fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
    echo "system-deps: already installed: ${SYSTEM_PACKAGES[*]}"
    exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    as_root=(sudo -n)
else
    echo "system-deps: missing Debian packages: ${missing[*]}"
    echo "system-deps: not root and no password-less sudo, so they were not installed. Run:"
    echo "system-deps:     sudo apt-get update && sudo apt-get install -y --no-install-recommends ${missing[*]}"
    echo "system-deps: until then, the tests that need them skip (and say why)."
    exit 0
fi

echo "system-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# A failed install (no mirror reachable, a broken package) must not stop `make test`:
# it is reported, and the tests that need the package skip and say why.
if "${as_root[@]}" apt-get update -qq \
    && "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    echo "system-deps: done"
else
    echo "system-deps: WARNING: could not install ${missing[*]} (see apt-get's messages above);"
    echo "system-deps: the tests that need them will skip."
fi
