//! Placeholder wheel (to be replaced by the hierarchical timer wheel).

use std::time::Instant;

pub(crate) struct Wheel;

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel
    }
    pub(crate) fn next_deadline(&self) -> Option<Instant> {
        None
    }
    pub(crate) fn set_parked_until(&self, _t: Option<Instant>) {}
    pub(crate) fn fire_expired(&self, _now: Instant) {}
    pub(crate) fn shutdown(&self) {}
}
