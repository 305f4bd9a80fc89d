//! Log2-bucket histograms of durations (nanoseconds).
//!
//! Bucket `0` holds the value 0; bucket `k ≥ 1` holds `[2^(k-1), 2^k)` ns.
//! 65 buckets cover every `u64`. Recording is a leading-zeros count and a
//! single-writer increment; the snapshot ([`Histogram`]) is plain data.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

const BUCKETS: usize = 65;

/// The live histogram, written by one worker only.
pub(crate) struct LiveHistogram {
    buckets: [AtomicU64; BUCKETS],
}

impl LiveHistogram {
    pub(crate) fn new() -> LiveHistogram {
        LiveHistogram {
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Records one sample. Single writer (the owning worker): a load and
    /// a store, both `Relaxed` (snapshots only read).
    pub(crate) fn record(&self, d: Duration) {
        let ns = u64::try_from(d.as_nanos()).unwrap_or(u64::MAX);
        let b = &self.buckets[bucket_of(ns)];
        b.store(b.load(Relaxed).wrapping_add(1), Relaxed);
    }

    pub(crate) fn snapshot(&self) -> Histogram {
        Histogram {
            counts: self.buckets.iter().map(|b| b.load(Relaxed)).collect(),
        }
    }
}

fn bucket_of(ns: u64) -> usize {
    (u64::BITS - ns.leading_zeros()) as usize
}

/// A snapshot of a histogram of durations, in log2 buckets.
///
/// ```
/// use quell_executor::metrics::Histogram;
/// let h = Histogram::default();
/// assert_eq!(h.count(), 0);
/// assert_eq!(h.percentile(0.5), None);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Histogram {
    counts: Vec<u64>,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            counts: vec![0; BUCKETS],
        }
    }
}

/// One bucket of a [`Histogram`]: the samples in `[low, high)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HistogramBucket {
    /// Lower bound (inclusive).
    pub low: Duration,
    /// Upper bound (exclusive; `Duration::MAX`-like for the last bucket).
    pub high: Duration,
    /// Number of samples in the bucket.
    pub count: u64,
}

impl Histogram {
    /// Number of samples.
    pub fn count(&self) -> u64 {
        self.counts.iter().sum()
    }

    /// The non-empty buckets, lowest first.
    pub fn buckets(&self) -> impl Iterator<Item = HistogramBucket> + '_ {
        self.counts
            .iter()
            .enumerate()
            .filter(|(_, &c)| c > 0)
            .map(|(k, &count)| {
                let (low, high) = bounds(k);
                HistogramBucket {
                    low: Duration::from_nanos(low),
                    high: Duration::from_nanos(high),
                    count,
                }
            })
    }

    /// An upper bound of the `q`-quantile (`0.0..=1.0`): the high end of
    /// the bucket that holds it (so within a factor of two). `None` when
    /// empty.
    pub fn percentile(&self, q: f64) -> Option<Duration> {
        let total = self.count();
        if total == 0 {
            return None;
        }
        let rank = ((q.clamp(0.0, 1.0) * total as f64).ceil() as u64).max(1);
        let mut seen = 0;
        for (k, &c) in self.counts.iter().enumerate() {
            seen += c;
            if seen >= rank {
                return Some(Duration::from_nanos(bounds(k).1));
            }
        }
        None
    }

    /// Adds `other`'s samples to this one (used to sum the workers').
    pub fn merge(&mut self, other: &Histogram) {
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            *a += b;
        }
    }
}

fn bounds(k: usize) -> (u64, u64) {
    match k {
        0 => (0, 1),
        64 => (1 << 63, u64::MAX),
        k => (1 << (k - 1), 1 << k),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_and_percentiles() {
        let live = LiveHistogram::new();
        live.record(Duration::ZERO);
        live.record(Duration::from_nanos(1));
        live.record(Duration::from_nanos(1000));
        live.record(Duration::from_nanos(1023));
        live.record(Duration::MAX);
        let h = live.snapshot();
        assert_eq!(h.count(), 5);
        let b: Vec<_> = h.buckets().map(|b| (b.low.as_nanos(), b.count)).collect();
        assert_eq!(b, vec![(0, 1), (1, 1), (512, 2), (1 << 63, 1)]);
        assert_eq!(h.percentile(0.5), Some(Duration::from_nanos(1024)));
        let mut m = h.clone();
        m.merge(&h);
        assert_eq!(m.count(), 10);
    }
}
