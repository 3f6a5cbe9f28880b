//! The device throttle: a token bucket shared by every thread using the
//! device. Tokens are device nanoseconds; they flow in at `rate` per wall
//! nanosecond (the io_properties rate factor K) and the bucket holds at most
//! `limit` (latency goal × K). Counters wrap, as in Seastar: `tail` counts
//! tokens grabbed, `head` tokens released; a request that grabbed up to
//! position `p` may go once `head` has reached `p`.
//!
//! A device's bucket is two-level, as Seastar's since its mixed read/write
//! scheduler: tokens flow in at `rate` only up to `ceil`, which starts at
//! `limit` and grows by what completed requests [`release`]. So at most
//! `limit` tokens of dispatched work are ever outstanding in the device,
//! whatever the model says: a device slower than its model (an SSD in
//! garbage collection, a virtual disk whose host is busy) gets work only as
//! fast as it completes it.
//!
//! [`release`]: TokenBucket::release

use crate::sync::model::{AtomicU64, Ordering};

pub(crate) struct TokenBucket {
    rate_per_ns: f64,
    limit: u64,
    head: AtomicU64,
    tail: AtomicU64,
    /// Wall time up to which tokens were added.
    replenished_at: AtomicU64,
    /// How far `head` may go: `limit` plus the tokens of completed
    /// requests; `None` for a plain rate limiter (a class's bandwidth cap).
    ceil: Option<AtomicU64>,
}

impl TokenBucket {
    /// A full rate limiter at `now_ns`.
    pub(crate) fn new(rate_per_ns: f64, limit: u64, now_ns: u64) -> Self {
        TokenBucket {
            rate_per_ns,
            limit,
            head: AtomicU64::new(limit),
            tail: AtomicU64::new(0),
            replenished_at: AtomicU64::new(now_ns),
            ceil: None,
        }
    }

    /// A full device bucket at `now_ns`, whose tokens also wait for
    /// completions ([`release`](Self::release)).
    pub(crate) fn with_completions(rate_per_ns: f64, limit: u64, now_ns: u64) -> Self {
        TokenBucket {
            ceil: Some(AtomicU64::new(limit)),
            ..TokenBucket::new(rate_per_ns, limit, now_ns)
        }
    }

    /// Tokens of requests that completed (or will never run): the bucket
    /// may refill that much further.
    pub(crate) fn release(&self, tokens: u64) {
        if let Some(ceil) = &self.ceil {
            ceil.fetch_add(tokens, Ordering::AcqRel);
        }
    }

    /// The largest part a request is dispatched in; larger ones are split.
    /// Half the limit: while a part waits (for a timer, which fires a
    /// little late), tokens keep flowing in up to the other half, so the
    /// next part starts with them. With parts of the whole limit, the
    /// completions' ceiling stops the bucket at the waiting part's position
    /// and every timer's lateness is lost (measured: paced sends on a
    /// 100 Mbit/s link reached 92% of their model's rate, and 99% with
    /// half-limit parts).
    pub(crate) fn max_request(&self) -> u64 {
        (self.limit / 2).max(1)
    }

    /// Takes `tokens`; returns the position `head` must reach for them.
    pub(crate) fn grab(&self, tokens: u64) -> u64 {
        self.tail
            .fetch_add(tokens, Ordering::AcqRel)
            .wrapping_add(tokens)
    }

    /// Tokens in the bucket now (negative: grabbed ahead of the rate).
    pub(crate) fn level(&self) -> i64 {
        self.head
            .load(Ordering::Acquire)
            .wrapping_sub(self.tail.load(Ordering::Acquire)) as i64
    }

    /// Tokens still missing before position `pos` may go (0: go now).
    pub(crate) fn deficiency(&self, pos: u64) -> u64 {
        let behind = pos.wrapping_sub(self.head.load(Ordering::Acquire)) as i64;
        behind.max(0) as u64
    }

    /// Wall nanoseconds until `deficiency` tokens have flowed in.
    pub(crate) fn wait_ns(&self, deficiency: u64) -> u64 {
        (deficiency as f64 / self.rate_per_ns).ceil() as u64
    }

    /// Adds the tokens that flowed in up to `now_ns` (whoever polls does
    /// it), never letting the bucket hold more than `limit` beyond what was
    /// grabbed.
    pub(crate) fn replenish(&self, now_ns: u64) {
        let then = self.replenished_at.load(Ordering::Acquire);
        let elapsed = now_ns.saturating_sub(then);
        let add = (elapsed as f64 * self.rate_per_ns) as u64;
        if add == 0 {
            return;
        }
        // Claim the interval; a concurrent replenisher that lost retries later.
        let claimed = then + (add as f64 / self.rate_per_ns) as u64;
        if self
            .replenished_at
            .compare_exchange(then, claimed, Ordering::AcqRel, Ordering::Acquire)
            .is_err()
        {
            return;
        }
        let mut head = self.head.load(Ordering::Acquire);
        loop {
            let tail = self.tail.load(Ordering::Acquire);
            let ceiling = tail.wrapping_add(self.limit);
            let mut room = ceiling.wrapping_sub(head) as i64;
            if let Some(ceil) = &self.ceil {
                room = room.min(ceil.load(Ordering::Acquire).wrapping_sub(head) as i64);
            }
            if room <= 0 {
                return;
            }
            let new = head.wrapping_add(add.min(room as u64));
            match self
                .head
                .compare_exchange_weak(head, new, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => return,
                Err(now) => head = now,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// Closed-loop requesters against one bucket on a simulated clock.
    /// Returns (release time, tokens) of every request.
    fn simulate(rate: f64, limit: u64, costs: &[u64], run_ns: u64) -> Vec<(u64, u64)> {
        let bucket = TokenBucket::new(rate, limit, 0);
        let mut waiting: VecDeque<(u64, u64)> = costs
            .iter()
            .map(|&c| (bucket.grab(c.min(bucket.max_request())), c))
            .collect();
        let mut released = Vec::new();
        let mut now = 0;
        while now < run_ns {
            now += 1_000; // 1 µs ticks
            bucket.replenish(now);
            while let Some(&(pos, cost)) = waiting.front() {
                if bucket.deficiency(pos) > 0 {
                    break;
                }
                waiting.pop_front();
                released.push((now, cost));
                // The requester immediately asks again.
                waiting.push_back((bucket.grab(cost), cost));
            }
        }
        released
    }

    #[test]
    fn never_releases_more_than_rate_times_window_plus_limit_plus_one_request() {
        let rate = 0.9; // K = 0.9 device-ns per ns
        let limit = 675_000; // 0.75 ms latency goal x K
        let costs = [20_000, 130_000, 50_000, 300_000, 8_000, 650_000];
        let released = simulate(rate, limit, &costs, 200_000_000);
        assert!(
            released.len() > 900,
            "the bucket released work: {}",
            released.len()
        );
        let biggest = *costs.iter().max().unwrap();
        for window in [100_000u64, 1_000_000, 10_000_000, 50_000_000] {
            let mut start = 0;
            let mut in_window = 0u64;
            for end in 0..released.len() {
                in_window += released[end].1;
                while released[end].0 - released[start].0 >= window {
                    in_window -= released[start].1;
                    start += 1;
                }
                let bound = rate * window as f64 + limit as f64 + biggest as f64;
                assert!(
                    in_window as f64 <= bound,
                    "window {window} ns released {in_window} > {bound}"
                );
            }
        }
    }

    #[test]
    fn long_run_rate_is_the_configured_rate() {
        let released = simulate(0.5, 100_000, &[10_000; 8], 100_000_000);
        let total: u64 = released.iter().map(|r| r.1).sum();
        let expected = 0.5 * 100_000_000.0 + 100_000.0;
        assert!((total as f64) <= expected + 10_000.0, "{total}");
        assert!((total as f64) >= expected * 0.95, "{total}");
    }

    #[test]
    fn a_device_bucket_never_has_more_than_limit_outstanding() {
        // Requests complete `service` ns after release; nothing is given
        // to the device beyond `limit` tokens not yet completed, whatever
        // the rate says.
        let (rate, limit, cost) = (10.0, 100_000u64, 10_000u64); // rate: far too high
        for service in [1_000u64, 50_000, 1_000_000] {
            let bucket = TokenBucket::with_completions(rate, limit, 0);
            let mut waiting = VecDeque::new();
            let mut in_device: VecDeque<(u64, u64)> = VecDeque::new();
            for _ in 0..32 {
                waiting.push_back(bucket.grab(cost));
            }
            let (mut now, mut done) = (0u64, 0u64);
            while now < 20_000_000 {
                now += 1_000;
                while in_device.front().is_some_and(|&(at, _)| at <= now) {
                    let (_, c) = in_device.pop_front().expect("front");
                    bucket.release(c);
                    done += 1;
                    waiting.push_back(bucket.grab(cost));
                }
                bucket.replenish(now);
                while waiting
                    .front()
                    .is_some_and(|&pos| bucket.deficiency(pos) == 0)
                {
                    waiting.pop_front();
                    in_device.push_back((now + service, cost));
                }
                let outstanding = in_device.len() as u64 * cost;
                assert!(
                    outstanding <= limit,
                    "service {service}: {outstanding} outstanding"
                );
            }
            // Throughput follows the device: limit / service per ns at most.
            let max = (20_000_000 / service.max(1) + 1) * (limit / cost);
            assert!(done <= max, "service {service}: {done} done, at most {max}");
            assert!(done > 0, "service {service}: work flowed");
        }
    }

    #[test]
    fn deficiency_tells_how_long_to_wait() {
        let bucket = TokenBucket::new(1.0, 1000, 0);
        let pos = bucket.grab(1000);
        assert_eq!(
            bucket.deficiency(pos),
            0,
            "a full bucket lets the first request go"
        );
        let pos = bucket.grab(500);
        assert_eq!(bucket.deficiency(pos), 500);
        assert_eq!(bucket.wait_ns(500), 500);
        bucket.replenish(499);
        assert_eq!(bucket.deficiency(pos), 1);
        bucket.replenish(500);
        assert_eq!(bucket.deficiency(pos), 0);
    }

    #[test]
    fn counters_wrap_around() {
        let bucket = TokenBucket::new(1.0, 1000, 0);
        bucket.head.store(u64::MAX - 100, Ordering::Relaxed);
        bucket.tail.store(u64::MAX - 1100, Ordering::Relaxed);
        let pos = bucket.grab(1000); // fits: head is 1000 ahead of tail
        assert_eq!(bucket.deficiency(pos), 0);
        let pos = bucket.grab(300); // crosses zero
        assert_eq!(bucket.deficiency(pos), 300);
        bucket.replenish(300);
        assert_eq!(bucket.deficiency(pos), 0);
    }
}

/// The bucket under the model checker (`--cfg shardio_loom`): threads that
/// grab, release and replenish at once, in every interleaving (up to three
/// preemptions), never make it hold more than `limit` beyond what was
/// grabbed, let `head` pass the completions' ceiling, or add more tokens
/// than the time that passed.
#[cfg(all(test, shardio_loom))]
mod loom_models {
    use loom::sync::Arc;

    use super::TokenBucket;

    const LIMIT: u64 = 10;

    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    /// The invariants, read once every thread is done.
    fn check(bucket: &TokenBucket, latest_now: u64) {
        use crate::sync::model::Ordering::SeqCst;
        let head = bucket.head.load(SeqCst);
        let tail = bucket.tail.load(SeqCst);
        assert!(
            head.wrapping_sub(tail) as i64 <= LIMIT as i64,
            "the bucket holds more than its limit: head {head}, tail {tail}"
        );
        if let Some(ceil) = &bucket.ceil {
            let ceil = ceil.load(SeqCst);
            assert!(
                head.wrapping_sub(ceil) as i64 <= 0,
                "head {head} passed the completions' ceiling {ceil}"
            );
        }
        // Rate 1 token per ns from a full bucket at 0 ns.
        assert!(
            head - LIMIT <= latest_now,
            "{} tokens flowed in over {latest_now} ns at one per ns",
            head - LIMIT
        );
    }

    #[test]
    fn loom_token_bucket_concurrent_grab_replenish_release() {
        model(|| {
            let bucket = Arc::new(TokenBucket::with_completions(1.0, LIMIT, 0));
            let a = {
                let bucket = Arc::clone(&bucket);
                loom::thread::spawn(move || {
                    let pos = bucket.grab(4);
                    bucket.replenish(5);
                    pos
                })
            };
            let b = {
                let bucket = Arc::clone(&bucket);
                loom::thread::spawn(move || {
                    let pos = bucket.grab(8);
                    bucket.release(4);
                    bucket.replenish(9);
                    pos
                })
            };
            let (pa, pb) = (a.join().unwrap(), b.join().unwrap());
            // Grabs take disjoint ranges, in some order.
            assert!((pa, pb) == (4, 12) || (pa, pb) == (12, 8), "{pa}, {pb}");
            check(&bucket, 9);
        });
    }

    #[test]
    fn loom_token_bucket_replenishers_race() {
        model(|| {
            let bucket = Arc::new(TokenBucket::new(1.0, LIMIT, 0));
            let first = bucket.grab(LIMIT); // empties the bucket
            let threads: Vec<_> = [3, 7]
                .into_iter()
                .map(|now| {
                    let bucket = Arc::clone(&bucket);
                    loom::thread::spawn(move || bucket.replenish(now))
                })
                .collect();
            let grabber = {
                let bucket = Arc::clone(&bucket);
                loom::thread::spawn(move || bucket.grab(5))
            };
            for t in threads {
                t.join().unwrap();
            }
            let second = grabber.join().unwrap();
            assert_eq!(first, LIMIT);
            assert_eq!(second, LIMIT + 5);
            check(&bucket, 7);
            // However the replenishers interleaved, the later one's time
            // is reached once it runs alone again.
            bucket.replenish(7);
            assert_eq!(bucket.deficiency(first), 0);
        });
    }
}
