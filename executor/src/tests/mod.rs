//! Loom models of the executor's protocols (run by ci/loom.sh).
