#!/usr/bin/env bash
# hyper on quell vs hyper on tokio (hyper/benches/http.rs): installs the
# load generator (wrk, Debian package) if missing, then runs the bench.
# Extra arguments select rows (hello, echo, drain); QH_SECS and QH_ROUNDS
# set each run's length (default 5 s) and the number of alternating rounds
# (default 3); QH_ONLY=quell or QH_ONLY=tokio runs one side only (for
# `perf stat -e instructions`, which counts wrk too: compare the two).
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v wrk >/dev/null 2>&1; then
    apt-get update && apt-get install -y wrk
fi
cargo bench -p quell-hyper --bench http -- "$@"
