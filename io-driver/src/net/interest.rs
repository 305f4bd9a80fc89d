//! [`Interest`]: which readiness a `ready` wait is for.

use std::fmt;
use std::ops::BitOr;

/// The readiness a [`ready`](crate::net::TcpStream::ready) wait is for:
/// reading, writing, or either (`Interest::READABLE | Interest::WRITABLE`).
/// Never empty.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest {
    read: bool,
    write: bool,
}

impl Interest {
    /// Readable (or read-closed, or an error pending).
    pub const READABLE: Interest = Interest {
        read: true,
        write: false,
    };
    /// Writable (or write-closed, or an error pending).
    pub const WRITABLE: Interest = Interest {
        read: false,
        write: true,
    };

    /// Both `self` and `other`.
    pub const fn add(self, other: Interest) -> Interest {
        Interest {
            read: self.read || other.read,
            write: self.write || other.write,
        }
    }

    /// Whether the interest includes reading.
    pub const fn is_readable(self) -> bool {
        self.read
    }

    /// Whether the interest includes writing.
    pub const fn is_writable(self) -> bool {
        self.write
    }
}

impl BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.read, self.write) {
            (true, true) => f.write_str("READABLE | WRITABLE"),
            (true, false) => f.write_str("READABLE"),
            _ => f.write_str("WRITABLE"),
        }
    }
}
