//! A device's scheduler: one fair queue and one token bucket (or in-flight
//! cap), shared by every thread that issues operations to the device.
//!
//! Seastar keeps a fair queue per shard and shares only the token bucket,
//! so shares hold within a shard but not across shards. Here the queue
//! itself is per device and shared by all runtime threads behind one short
//! mutex, so shares hold across threads: two classes issuing from different
//! workers still split the device by their shares.

use std::collections::HashMap;
use std::ops::DerefMut;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};

use std::task::Waker;

use super::class::ClassInner;
use super::clock::now_ns;
use super::cost::CostModel;
use super::dir::Dir;
use super::fair_queue::{ClassId, FairQueue};
use super::token_bucket::TokenBucket;
use super::waiter::{Hold, Waiter, WaiterState};
use crate::sync::model::Mutex;

/// tau: how far back in time an idle class may claim device time when it
/// returns (Seastar's 5 ms).
const TAU_NS: u64 = 5_000_000;

/// A class's place in a device's queue. It holds the class weakly: once
/// the class is gone and nothing of it is queued or in flight, the place is
/// reused by the next new class (a server may create a class per tenant or
/// per request).
pub(super) struct Slot {
    pub(super) class: Weak<ClassInner>,
    key: u64,
    pub(super) queued: usize,
    pub(super) inflight: usize,
    /// Since when the class has had work queued and none in the device.
    starving_since: Option<u64>,
}

impl Slot {
    /// Starts or stops the class's starvation clock after its counts
    /// changed.
    pub(super) fn settle(&mut self, now: u64) {
        let starving = self.queued > 0 && self.inflight == 0;
        match (starving, self.starving_since) {
            (true, None) => self.starving_since = Some(now),
            (false, Some(since)) => {
                self.starving_since = None;
                if let Some(class) = self.class.upgrade() {
                    class
                        .counters
                        .starvation_ns
                        .fetch_add(now.saturating_sub(since), Ordering::Relaxed);
                }
            }
            _ => {}
        }
    }
}

pub(super) struct State {
    pub(super) queue: FairQueue<Arc<Waiter>>,
    pub(super) slots: Vec<Slot>,
    pub(super) by_class: HashMap<u64, ClassId>,
    pub(super) queued: usize,
    pub(super) inflight: usize,
    /// The head request: dispatched by the fair queue, its tokens grabbed,
    /// waiting for the bucket to reach `pos`; `remaining` is the part of a
    /// request larger than the bucket still to be grabbed.
    pub(super) pending: Option<Pending>,
    /// A request larger than one part, set aside between two of its parts
    /// so that a request of another class the fair queue puts first goes
    /// before its next part (a latency class's request then waits for one
    /// part of a bulk request, not all of it); resumed once that request
    /// passed.
    pub(super) suspended: Option<Pending>,
    pub(super) timer_at: Option<u64>,
}

pub(super) struct Pending {
    pub(super) waiter: Arc<Waiter>,
    pub(super) pos: u64,
    /// The tokens of the part being waited for.
    pub(super) part: u64,
    pub(super) remaining: u64,
    /// The fair queue's virtual time when it was dispatched (its class's
    /// before the charge): a request of a class behind it is ranked ahead.
    pub(super) vtime: f64,
}

/// One device: a disk (by `st_dev`) or a direction of the network.
pub(crate) struct Device {
    pub(crate) name: String,
    model: CostModel,
    pub(super) bucket: Option<TokenBucket>,
    pub(super) cap: usize,
    /// The shortest timer wait, a third of the latency goal.
    pub(super) timer_floor_ns: u64,
    state: Mutex<State>,
    pub(super) me: Weak<Device>,
}

impl Device {
    pub(crate) fn new(name: String, model: CostModel, cap: usize) -> Arc<Device> {
        let bucket = model
            .rate()
            .map(|(rate, limit)| TokenBucket::with_completions(rate, limit, now_ns()));
        let timer_floor_ns = model
            .rate()
            .map_or(0, |(k, limit)| (limit as f64 / k / 3.0) as u64);
        Arc::new_cyclic(|me| Device {
            name,
            model,
            bucket,
            cap: cap.max(1),
            timer_floor_ns,
            state: Mutex::new(State {
                queue: FairQueue::new(TAU_NS),
                slots: Vec::new(),
                by_class: HashMap::new(),
                queued: 0,
                inflight: 0,
                pending: None,
                suspended: None,
                timer_at: None,
            }),
            me: me.clone(),
        })
    }

    pub(crate) fn cost(&self, dir: Dir, bytes: u64) -> u64 {
        self.model.cost(dir, bytes)
    }

    pub(crate) fn max_bytes(&self, dir: Dir) -> Option<u64> {
        self.model.max_bytes(dir)
    }

    fn lock(&self) -> impl DerefMut<Target = State> + '_ {
        self.state.lock()
    }

    /// What the device holds now, for `metrics()`.
    pub(crate) fn stats(&self) -> DeviceStats {
        let (in_flight, queued) = {
            let st = self.lock();
            (st.inflight, st.queued)
        };
        DeviceStats {
            name: self.name.clone(),
            in_flight,
            queued,
            bucket_level: self.bucket.as_ref().map(|b| b.level()),
        }
    }

    /// Requests (in flight, queued) now.
    #[cfg(all(test, shardio_loom))]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let st = self.lock();
        (st.inflight, st.queued)
    }

    fn slot(&self, st: &mut State, class: &Arc<ClassInner>) -> ClassId {
        if let Some(&id) = st.by_class.get(&class.id) {
            return id;
        }
        let slot = Slot {
            class: Arc::downgrade(class),
            key: class.id,
            queued: 0,
            inflight: 0,
            starving_since: None,
        };
        let free = st
            .slots
            .iter()
            .position(|s| s.class.strong_count() == 0 && s.queued == 0 && s.inflight == 0);
        let id = match free {
            Some(id) => {
                st.by_class.remove(&st.slots[id].key);
                st.queue.recycle(id, class.shares());
                st.slots[id] = slot;
                id
            }
            None => {
                st.slots.push(slot);
                st.queue.add_class(class.shares())
            }
        };
        st.by_class.insert(class.id, id);
        id
    }

    /// Queues a request and dispatches what may go; the returned waiter
    /// says whether this request was granted already.
    /// `since` is when the request was issued (it may have waited for its
    /// class's bandwidth cap), for the queue-delay figures.
    pub(crate) fn enqueue(
        &self,
        class: Arc<ClassInner>,
        dir: Dir,
        bytes: u64,
        since: u64,
        hold: Hold,
    ) -> Arc<Waiter> {
        let now = now_ns();
        let cost = self.cost(dir, bytes);
        let waiter = Arc::new(Waiter {
            state: Mutex::new(WaiterState::default()),
            class,
            bytes,
            cost,
            queued_at: since.min(now),
            held: AtomicU64::new(0),
            hold,
        });
        let wake = {
            let mut st = self.lock();
            let id = self.slot(&mut st, &waiter.class);
            let slot = &mut st.slots[id];
            slot.queued += 1;
            slot.settle(now);
            if slot.queued == 1 {
                waiter
                    .class
                    .counters
                    .activations
                    .fetch_add(1, Ordering::Relaxed);
                tracing::debug!(class = %waiter.class.name, device = %self.name, "class activated");
            }
            st.queued += 1;
            st.queue.push(id, Arc::clone(&waiter), cost);
            // The clock read under the lock: times from threads that
            // waited for it would be out of order.
            self.dispatch(&mut st, now_ns())
        };
        wake.into_iter().for_each(Waker::wake);
        waiter
    }

    /// Charges a completed request that could not wait up front (a
    /// datagram received into the caller's buffer, a `try_send`): its cost
    /// goes on the class's account and is taken from the bucket, so the
    /// class and the device carry it as debt.
    pub(crate) fn charge_after(&self, class: &Arc<ClassInner>, dir: Dir, bytes: u64) {
        let cost = self.cost(dir, bytes);
        let c = &class.counters;
        c.ops.fetch_add(1, Ordering::Relaxed);
        c.bytes.fetch_add(bytes, Ordering::Relaxed);
        c.consumption_ns.fetch_add(cost, Ordering::Relaxed);
        let mut st = self.lock();
        let id = self.slot(&mut st, class);
        st.queue.charge(id, cost);
        if let Some(bucket) = &self.bucket {
            // Done already: it uses rate, not room in the device.
            bucket.grab(cost);
            bucket.release(cost);
        }
    }

    /// Called by the timer thread when the head's tokens are due (`at` is
    /// the deadline it was set for; an earlier timer replaced it if not
    /// `timer_at`, and then this one has nothing to do).
    pub(crate) fn timer_fired(&self, at: u64) {
        let wake = {
            let mut st = self.lock();
            if st.timer_at != Some(at) {
                return;
            }
            st.timer_at = None;
            self.dispatch(&mut st, now_ns())
        };
        wake.into_iter().for_each(Waker::wake);
    }

    /// A granted request finished (its permit was dropped).
    pub(super) fn complete(&self, waiter: &Waiter, held: u64) {
        let now = now_ns();
        if let Some(bucket) = &self.bucket {
            bucket.release(held);
        }
        let class = &*waiter.class;
        let in_device = now.saturating_sub(waiter.dispatched_at());
        let c = &class.counters;
        c.in_device_ns.fetch_add(in_device, Ordering::Relaxed);
        c.device_times.record(in_device);
        c.latencies.record(now.saturating_sub(waiter.queued_at));
        let wake = {
            let mut st = self.lock();
            st.inflight -= 1;
            if let Some(&id) = st.by_class.get(&class.id) {
                let slot = &mut st.slots[id];
                slot.inflight -= 1;
                slot.settle(now);
            }
            if st.queued == 0 {
                return;
            }
            self.dispatch(&mut st, now_ns())
        };
        wake.into_iter().for_each(Waker::wake);
    }
}

/// A device's state at one moment, in [`Metrics::devices`](crate::Metrics::devices).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceStats {
    /// `disk MAJ:MIN` (with `Read`/`Write` for a duplex disk), or
    /// `net <interface> tx|rx` (`unix` for Unix sockets, `any` for sockets
    /// bound to no address).
    pub name: String,
    /// Requests dispatched and not completed (those awaited to completion).
    pub in_flight: usize,
    /// Requests waiting in the device's fair queue.
    pub queued: usize,
    /// Tokens in the device's bucket, in device nanoseconds (negative:
    /// dispatched ahead of the rate, owed); `None` without a model.
    pub bucket_level: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sched::class::PriorityClass;
    use crate::sched::permit::Permit;

    fn run_one(dev: &Arc<Device>, class: &PriorityClass) {
        let waiter = dev.enqueue(
            Arc::clone(&class.inner),
            Dir::Read,
            4096,
            now_ns(),
            Hold::UntilDone,
        );
        assert!(
            waiter.poll_granted(Waker::noop()),
            "an idle device dispatches at once"
        );
        drop(Permit::new(Arc::clone(dev), waiter));
    }

    #[test]
    fn the_place_of_a_dropped_class_is_reused() {
        let dev = Device::new("test".into(), CostModel::nominal(), 4);
        for i in 0..100 {
            run_one(&dev, &PriorityClass::new(format!("c{i}"), 100));
        }
        assert_eq!(dev.lock().slots.len(), 1, "one place, reused 99 times");
        let a = PriorityClass::new("a", 100);
        let b = PriorityClass::new("b", 100);
        run_one(&dev, &a);
        run_one(&dev, &b);
        run_one(&dev, &a);
        assert_eq!(dev.lock().slots.len(), 2, "live classes keep their places");
        assert_eq!(a.stats().ops, 2);
        assert_eq!(b.stats().ops, 1);
    }
}
