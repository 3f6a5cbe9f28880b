//! A device's dispatch: taking requests from the fair queue while the
//! device has room (tokens in its bucket, or in-flight slots under the cap
//! without a model), in parts of the bucket, and granting them.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::Waker;

use super::device::{Device, Pending, State};
use super::timer;
use super::token_bucket::TokenBucket;
use super::waiter::{Hold, Waiter};

impl Device {
    /// Takes requests from the fair queue while the device has room: tokens
    /// in the bucket, or in-flight slots under the cap without a model.
    /// Returns the wakers of the tasks granted, to wake after unlocking.
    pub(super) fn dispatch(&self, st: &mut State, now: u64) -> Vec<Waker> {
        let mut wake = Vec::new();
        for (id, slot) in st.slots.iter().enumerate() {
            if let Some(class) = slot.class.upgrade() {
                st.queue.set_shares(id, class.shares());
            }
        }
        if let Some(bucket) = &self.bucket {
            bucket.replenish(now);
        }
        loop {
            if let Some(mut p) = st.pending.take() {
                // The bucket exists whenever a request is pending.
                let Some(bucket) = &self.bucket else { break };
                let missing = bucket.deficiency(p.pos);
                if missing > 0 {
                    if self.jump_ahead(st, &p, bucket, now, &mut wake) {
                        st.pending = Some(p);
                        continue;
                    }
                    // Completions dispatch too, and far more cheaply (on
                    // a worker thread, waking tasks locally): the timer is
                    // for an idle device, so it waits at least a third of
                    // the latency goal.
                    let at = now + bucket.wait_ns(missing).max(self.timer_floor_ns);
                    if st.timer_at.is_none_or(|t| t > at) {
                        st.timer_at = Some(at);
                        let me = self.me.clone();
                        timer::wake_at(at, move || {
                            if let Some(device) = me.upgrade() {
                                device.timer_fired(at);
                            }
                        });
                    }
                    st.pending = Some(p);
                    break;
                }
                if p.remaining > 0 {
                    // This part went through; it holds no room in the
                    // device (a request larger than the limit could never
                    // take its next part otherwise).
                    bucket.release(p.part);
                    let part = p.remaining.min(bucket.max_request());
                    p.part = part;
                    p.remaining -= part;
                    if st.suspended.is_none() && self.other_class_first(st, &p.waiter) {
                        st.suspended = Some(p);
                        continue;
                    }
                    p.pos = bucket.grab(part);
                    st.pending = Some(p);
                    continue;
                }
                let granted = self.grant(st, &p.waiter, now, &mut wake);
                if granted && p.waiter.hold == Hold::UntilDone {
                    p.waiter.held.store(p.part, Ordering::Relaxed);
                } else {
                    // Withdrawn after its tokens were taken (it never
                    // runs), or done with the device once dispatched.
                    bucket.release(p.part);
                }
                // The request set aside for this one takes its next part.
                if let Some(mut s) = st.suspended.take() {
                    s.pos = bucket.grab(s.part);
                    st.pending = Some(s);
                }
                continue;
            }
            if self.bucket.is_none() && st.inflight >= self.cap {
                break;
            }
            let Some((id, waiter, cost)) = st.queue.dispatch() else {
                break;
            };
            st.queued -= 1;
            let slot = &mut st.slots[id];
            slot.queued -= 1;
            slot.settle(now);
            match &self.bucket {
                Some(bucket) => {
                    let part = cost.min(bucket.max_request());
                    st.pending = Some(Pending {
                        pos: bucket.grab(part),
                        part,
                        remaining: cost - part,
                        waiter,
                        vtime: st.queue.last(),
                    });
                }
                None => {
                    self.grant(st, &waiter, now, &mut wake);
                }
            }
        }
        wake
    }

    /// Whether the fair queue's next request is of another class than
    /// `waiter`'s that has used less of its share than `waiter`'s class
    /// (counting all of `waiter`'s request): that request goes before the
    /// next part. A class ranked ahead does not step aside for one behind
    /// (an RPC a little larger than a part would otherwise wait for a bulk
    /// part between its own two: with 4 KiB RPCs beside bulk on the
    /// 100 Mbit/s link, the RPCs' p99 queue delay was 1.3 ms).
    fn other_class_first(&self, st: &State, waiter: &Waiter) -> bool {
        let own = st.by_class.get(&waiter.class.id).copied();
        st.queue.next_class().is_some_and(|next| match own {
            Some(own) => next != own && st.queue.accumulated(next) < st.queue.accumulated(own),
            None => true,
        })
    }

    /// Marks `waiter` dispatched, unless its future was dropped meanwhile.
    fn grant(&self, st: &mut State, waiter: &Waiter, now: u64, wake: &mut Vec<Waker>) -> bool {
        let mut ws = waiter.state.lock();
        if ws.cancelled {
            return false;
        }
        if waiter.hold == Hold::UntilDone {
            st.inflight += 1;
            if let Some(&id) = st.by_class.get(&waiter.class.id) {
                let slot = &mut st.slots[id];
                slot.inflight += 1;
                slot.settle(now);
            }
        }
        ws.granted = true;
        ws.dispatched_at = now;
        let c = &waiter.class.counters;
        c.ops.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(waiter.bytes, Ordering::Relaxed);
        c.consumption_ns.fetch_add(waiter.cost, Ordering::Relaxed);
        let delay = now.saturating_sub(waiter.queued_at);
        c.queue_delay_ns.fetch_add(delay, Ordering::Relaxed);
        c.queue_delays.record(delay);
        if waiter.hold == Hold::Instant {
            // It leaves the device now: dispatch is its completion.
            c.latencies.record(delay);
        }
        tracing::trace!(class = %waiter.class.name, device = %self.name, cost = waiter.cost, "dispatched");
        if let Some(w) = ws.waker.take() {
            wake.push(w);
        }
        true
    }

    /// A small request the fair queue ranks ahead of the waiting one `p`
    /// (its class has used no more of its share than `p`'s had when `p`
    /// was dispatched) does not wait behind `p`'s tokens: it takes its own
    /// (after `p`'s, so `p` is not delayed) and goes now. The rate holds:
    /// the requests after it wait for its tokens instead. Only for
    /// requests that leave the device when dispatched (socket sends and
    /// receives) of at most the bucket's limit, so what the device holds
    /// stays bounded; a class gets ahead by at most what the fair queue's
    /// idle allowance (tau) and its shares allow.
    fn jump_ahead(
        &self,
        st: &mut State,
        p: &Pending,
        bucket: &TokenBucket,
        now: u64,
        wake: &mut Vec<Waker>,
    ) -> bool {
        let Some(next) = st.queue.next_class() else {
            return false;
        };
        let small = |w: &Arc<Waiter>, cost: u64| {
            w.hold == Hold::Instant && cost <= bucket.max_request() * 2
        };
        if st.queue.accumulated(next) > p.vtime
            || !st.queue.peek(next).is_some_and(|(w, c)| small(w, c))
        {
            return false;
        }
        let Some((id, waiter, cost)) = st.queue.dispatch() else {
            return false;
        };
        st.queued -= 1;
        let slot = &mut st.slots[id];
        slot.queued -= 1;
        slot.settle(now);
        bucket.grab(cost);
        self.grant(st, &waiter, now, wake);
        // It left the device when dispatched (an instant hold).
        bucket.release(cost);
        true
    }
}
