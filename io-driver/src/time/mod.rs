//! Time: the timer wheel driven by the driver's poll timeout.

mod wheel;

pub(crate) use wheel::Wheel;
