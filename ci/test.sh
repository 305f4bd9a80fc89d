#!/usr/bin/env bash
# The test command (README): formatting, lints, the docs' links (private
# items too: a comment that links a name that does not exist fails), every
# test and doctest. Tests run in release so the bounded stress tests finish
# quickly.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --workspace --no-deps --document-private-items
cargo test --workspace --release
cargo test --release -p quell --features tokio-io --test io_tokio_compat
