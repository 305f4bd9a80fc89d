#!/usr/bin/env bash
# Loom models (files named loom_*.rs), bounded to fit CI's budget: the
# crates' own models, then the user-side models of docs/loom.md
# (tests/loom_user.rs, quell used from a user's `loom::model`).
# Optional argument: a test-name filter (default: every model).
set -euo pipefail
cd "$(dirname "$0")/.."
export RUSTFLAGS="--cfg loom -C debug-assertions"
export LOOM_MAX_PREEMPTIONS="${LOOM_MAX_PREEMPTIONS:-2}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target/loom}"
filter="${1:-loom}"
cargo test --release -p quell-cancel -p quell-executor -p quell-io-driver --lib -- "$filter" --test-threads=2
cargo test --release -p quell --test loom_user -- "$filter" --test-threads=2
