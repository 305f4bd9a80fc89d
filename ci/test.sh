#!/usr/bin/env bash
# The test command (README): formatting, lints, every test and doctest.
# Tests run in release so the bounded stress tests finish quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --release
cargo test --release -p quell --features tokio-io --test io_tokio_compat
