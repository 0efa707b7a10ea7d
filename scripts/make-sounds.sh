#!/usr/bin/env bash
# Regenerates the English prompts of the default configuration
# (conf/default/sounds/en/us/callie/<dir>/8000/*.wav) from the list in
# scripts/sounds-en.txt, spoken by flite's "slt" voice and written as
# 8 kHz 16-bit mono WAV. Needs the flite program (Debian: apt-get install
# flite). The old tree is replaced, so prompts removed from the list go.
#
# Usage: scripts/make-sounds.sh [voice]
set -euo pipefail
cd "$(dirname "$0")/.."
command -v flite >/dev/null || { echo "make-sounds: flite is not installed (apt-get install flite)" >&2; exit 1; }
voice=${1:-slt}
out=conf/default/sounds/en/us/callie
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go run ./scripts/makesounds -list scripts/sounds-en.txt -out "$tmp/callie" -voice "$voice"
rm -rf "$out"
mkdir -p "$(dirname "$out")"
mv "$tmp/callie" "$out"
du -sh "$out"
