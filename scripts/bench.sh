#!/usr/bin/env bash
# Prints the Go benchmark figures that docs/PERFORMANCE.md reports:
# dialplan hunts, configuration loads and variable expansion.
# Usage: scripts/bench.sh [benchtime]   (default 2s; use e.g. 20000x for a fixed count)
set -euo pipefail
cd "$(dirname "$0")/.."
benchtime=${1:-2s}
echo "# $(go version) on $(nproc) cores, $(date -u +%Y-%m-%dT%H:%M:%SZ), commit $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
go test -run '^$' -bench 'Hunt|Load' -benchmem -benchtime "$benchtime" ./dialplan ./conf
go test -run '^$' -bench 'Expand|Separate' -benchmem -benchtime "$benchtime" ./vars
