//! The fair queue: each class has shares and an accumulated cost; dispatch
//! takes the backlogged class with the least accumulated cost and charges it
//! `cost / shares`. Work conserving: an empty class takes nothing, so the
//! others share everything. A class that was idle re-enters at
//! `max(own, last dispatched − tau / shares)`, so it cannot claim a burst for
//! the time it slept.

use std::collections::VecDeque;

/// A class index, as returned by [`FairQueue::add_class`].
pub(crate) type ClassId = usize;

/// The smallest charge of one dispatch, so zero-cost requests still move a
/// class forward.
const MIN_CHARGE: f64 = 1e-3;

struct Class<R> {
    shares: u32,
    /// Cost dispatched so far divided by shares (the class's virtual time).
    accumulated: f64,
    queue: VecDeque<(R, u64)>,
}

pub(crate) struct FairQueue<R> {
    classes: Vec<Class<R>>,
    /// Virtual time of the last dispatch.
    last: f64,
    /// How much of a burst an idle class may claim back, in device ns.
    tau: f64,
}

impl<R> FairQueue<R> {
    /// `tau_ns`: the burst an idle class may claim on return (Seastar: 5 ms).
    pub(crate) fn new(tau_ns: u64) -> Self {
        FairQueue {
            classes: Vec::new(),
            last: 0.0,
            tau: tau_ns as f64,
        }
    }

    /// Adds a class with `shares` (at least 1).
    pub(crate) fn add_class(&mut self, shares: u32) -> ClassId {
        self.classes.push(Class {
            shares: shares.max(1),
            accumulated: self.last,
            queue: VecDeque::new(),
        });
        self.classes.len() - 1
    }

    /// Gives the place of a class that is gone (nothing queued) to a new
    /// class with `shares`, starting from the current virtual time.
    pub(crate) fn recycle(&mut self, class: ClassId, shares: u32) {
        self.classes[class] = Class {
            shares: shares.max(1),
            accumulated: self.last,
            queue: VecDeque::new(),
        };
    }

    /// Changes a class's shares; takes effect at the next dispatch.
    pub(crate) fn set_shares(&mut self, class: ClassId, shares: u32) {
        self.classes[class].shares = shares.max(1);
    }

    /// Queues `request` costing `cost` device ns in `class`.
    pub(crate) fn push(&mut self, class: ClassId, request: R, cost: u64) {
        let c = &mut self.classes[class];
        if c.queue.is_empty() {
            // Re-entering after idling: at most tau's worth behind.
            let floor = self.last - self.tau / f64::from(c.shares);
            c.accumulated = c.accumulated.max(floor);
        }
        c.queue.push_back((request, cost));
    }

    /// Adds `cost` to `class`'s account without a request: the post-paid
    /// cost of a completed datagram receive, carried as debt.
    pub(crate) fn charge(&mut self, class: ClassId, cost: u64) {
        let c = &mut self.classes[class];
        let floor = self.last - self.tau / f64::from(c.shares);
        c.accumulated =
            c.accumulated.max(floor) + (cost as f64 / f64::from(c.shares)).max(MIN_CHARGE);
    }

    /// Takes the next request: from the backlogged class with the least
    /// accumulated cost.
    pub(crate) fn dispatch(&mut self) -> Option<(ClassId, R, u64)> {
        let i = self.next_class()?;
        let c = &mut self.classes[i];
        let (request, cost) = c.queue.pop_front()?;
        self.last = c.accumulated;
        c.accumulated += (cost as f64 / f64::from(c.shares)).max(MIN_CHARGE);
        Some((i, request, cost))
    }

    /// The virtual time of the last dispatch (the class's accumulated cost
    /// per share before that dispatch's charge).
    pub(crate) fn last(&self) -> f64 {
        self.last
    }

    /// `class`'s accumulated cost per share.
    pub(crate) fn accumulated(&self, class: ClassId) -> f64 {
        self.classes[class].accumulated
    }

    /// The request at the head of `class`'s queue, with its cost.
    pub(crate) fn peek(&self, class: ClassId) -> Option<(&R, u64)> {
        self.classes[class].queue.front().map(|(r, c)| (r, *c))
    }

    /// The class the next [`dispatch`](Self::dispatch) takes from.
    pub(crate) fn next_class(&self) -> Option<ClassId> {
        self.classes
            .iter()
            .enumerate()
            .filter(|(_, c)| !c.queue.is_empty())
            .min_by(|(_, a), (_, b)| a.accumulated.total_cmp(&b.accumulated))
            .map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAU: u64 = 5_000_000; // 5 ms

    /// Keeps every class backlogged and counts dispatches per class.
    fn run(shares: &[u32], costs: &[u64], dispatches: usize) -> Vec<u64> {
        let mut q = FairQueue::new(TAU);
        let ids: Vec<_> = shares.iter().map(|&s| q.add_class(s)).collect();
        for (&id, &cost) in ids.iter().zip(costs) {
            for _ in 0..4 {
                q.push(id, (), cost);
            }
        }
        let mut count = vec![0u64; shares.len()];
        for _ in 0..dispatches {
            let (class, (), cost) = q.dispatch().expect("backlogged");
            count[class] += 1;
            q.push(class, (), cost);
        }
        count
    }

    fn within(got: u64, want: f64, slack: f64) -> bool {
        (got as f64 - want).abs() <= slack
    }

    #[test]
    fn equal_shares_dispatch_equally_within_one() {
        let c = run(&[10, 10], &[1000, 1000], 1000);
        assert!(
            within(c[0], 500.0, 1.0) && within(c[1], 500.0, 1.0),
            "{c:?}"
        );
        let c = run(&[10, 10, 10, 10], &[1000; 4], 1000);
        assert!(c.iter().all(|&n| within(n, 250.0, 1.0)), "{c:?}");
    }

    #[test]
    fn shares_ten_to_twenty_give_one_to_two() {
        let c = run(&[10, 20], &[1000, 1000], 300);
        assert!(
            within(c[0], 100.0, 1.0) && within(c[1], 200.0, 1.0),
            "{c:?}"
        );
    }

    #[test]
    fn equal_shares_with_costs_two_to_one_give_one_to_two_requests() {
        let c = run(&[10, 10], &[2000, 1000], 300);
        assert!(
            within(c[0], 100.0, 1.0) && within(c[1], 200.0, 1.0),
            "{c:?}"
        );
    }

    #[test]
    fn an_empty_class_lets_another_take_everything() {
        let mut q = FairQueue::new(TAU);
        let busy = q.add_class(1);
        let _idle = q.add_class(1000);
        for _ in 0..100 {
            q.push(busy, (), 1000);
        }
        let mut n = 0;
        while let Some((class, (), _)) = q.dispatch() {
            assert_eq!(class, busy);
            n += 1;
        }
        assert_eq!(n, 100, "work conserving");
    }

    #[test]
    fn an_idle_class_returning_overruns_by_at_most_tau() {
        let mut q = FairQueue::new(TAU);
        let a = q.add_class(100);
        let b = q.add_class(100);
        let cost = 100_000; // 0.1 ms of device time
        // a runs alone for a long time (1000 ms of device time).
        for _ in 0..10_000 {
            q.push(a, (), cost);
            q.dispatch();
        }
        // b returns; both backlogged. Count b's lead before a gets a turn.
        for _ in 0..1000 {
            q.push(a, (), cost);
            q.push(b, (), cost);
        }
        let mut b_run = 0u64;
        while let Some((class, (), _)) = q.dispatch() {
            if class == a {
                break;
            }
            b_run += 1;
        }
        // tau = 5 ms of device time = 50 requests of 0.1 ms, plus one.
        assert!(
            b_run <= TAU / cost + 1,
            "b claimed {b_run} requests of burst"
        );
        assert!(b_run >= TAU / cost - 1, "b got its tau's worth: {b_run}");
    }

    #[test]
    fn set_shares_takes_effect_at_once() {
        let mut q = FairQueue::new(TAU);
        let a = q.add_class(10);
        let b = q.add_class(10);
        for _ in 0..1000 {
            q.push(a, (), 1000);
            q.push(b, (), 1000);
        }
        for _ in 0..100 {
            q.dispatch();
        }
        q.set_shares(b, 30);
        let mut c = [0u64; 2];
        for _ in 0..400 {
            let (class, (), _) = q.dispatch().expect("backlogged");
            c[class] += 1;
        }
        assert!(
            within(c[0], 100.0, 2.0) && within(c[1], 300.0, 2.0),
            "{c:?}"
        );
    }

    #[test]
    fn random_shares_and_costs_stay_within_five_percent_of_normalized_share() {
        // 3,000 dispatches; xorshift for reproducible "random" parameters.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..20 {
            let classes = 2 + (next() % 4) as usize;
            let shares: Vec<u32> = (0..classes).map(|_| 1 + (next() % 100) as u32).collect();
            let costs: Vec<u64> = (0..classes).map(|_| 1000 + next() % 100_000).collect();
            let mut q = FairQueue::new(TAU);
            let ids: Vec<_> = shares.iter().map(|&s| q.add_class(s)).collect();
            for (&id, &cost) in ids.iter().zip(&costs) {
                q.push(id, (), cost);
            }
            let mut consumed = vec![0u64; classes];
            for _ in 0..3000 {
                let (class, (), cost) = q.dispatch().expect("backlogged");
                consumed[class] += cost;
                q.push(class, (), costs[class]);
            }
            let total: u64 = consumed.iter().sum();
            let share_sum: u32 = shares.iter().sum();
            for i in 0..classes {
                let want = total as f64 * f64::from(shares[i]) / f64::from(share_sum);
                let got = consumed[i] as f64;
                // One request of slack on top of 5% for the coarsest costs.
                let slack = 0.05 * want + costs[i] as f64;
                assert!(
                    (got - want).abs() <= slack,
                    "round {round}: class {i} shares {} consumed {got} want {want}",
                    shares[i]
                );
            }
        }
    }
}
