#!/usr/bin/env bash
# Prints issue 7's must-show table (see scripts/bench_prune.py). Usage: scripts/bench_prune.sh [path/to/effdl]
exec /usr/bin/python3 "$(dirname "$0")/bench_prune.py" "$@"
