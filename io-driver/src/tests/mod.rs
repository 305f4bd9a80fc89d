//! Loom models of the reactor's protocols (run by `ci/loom.sh`).
//!
//! ```text
//! loom_io.rs   C6: readiness vs waker install; C7: cancel vs readiness vs
//!              waker install on one registration
//! ```

mod loom_io;
