//! The hand-off between a ring and its reaper task: work requests (a
//! deferred submission, wakers to deliver) and the queue of tasks to wake.

use std::collections::VecDeque;
use std::task::{Context, Waker};

use super::wakers::{give_scratch, set_waker, take_scratch};
use crate::sync::model::{AtomicBool, Mutex, Ordering};

/// Tasks the reaper wakes per tick of Tokio's I/O driver. A task woken from
/// a worker's task goes on that worker's local run queue (256 entries); when
/// it is full, half of it spills to the global queue, which a busy worker
/// serves one task per 61 polls while the local queue keeps being refilled:
/// the spilled connections starve (measured: p99 17x Tokio's at 1,000
/// echo connections). A worker polls its driver at least every 61 task
/// polls, so fewer wake-ups than that per tick keep the local queue from
/// growing, and the rest wait here in completion order.
pub(crate) const WAKE_BUDGET: usize = 48;

/// What a ring and its reaper task tell each other.
///
/// The ring asks for work (a deferred submission, or wakers to deliver) by
/// setting `work_requested` and waking the reaper if it waits; the reaper
/// clears the flag when it takes the work. While the reaper is busy,
/// requests only set the flag, which it checks before it waits again, so no
/// request is lost and a busy reaper is not woken twice.
pub(crate) struct Handshake {
    /// Work was asked of the reaper task.
    work_requested: AtomicBool,
    state: Mutex<ReaperState>,
}

impl Default for Handshake {
    fn default() -> Self {
        Handshake {
            work_requested: AtomicBool::new(false),
            state: Mutex::default(),
        }
    }
}

/// What the ring knows of its reaper task.
#[derive(Default)]
struct ReaperState {
    /// The reaper task exists; otherwise wakers are delivered at once.
    alive: bool,
    /// Set while the reaper waits for work; taken to wake it.
    waiting: Option<Waker>,
    /// Tasks whose operations completed, to wake from the reaper task. Tokio
    /// queues a task woken from a worker's task on that worker's local run
    /// queue (256 entries) and spills the rest to the global queue, which a
    /// busy worker drains one task per 61 polls: waking hundreds at once
    /// starves the spilled ones. The reaper wakes them in bounded batches.
    wakes: VecDeque<Waker>,
}

impl Handshake {
    /// Ring side: asks the reaper for work. Returns true when there is no
    /// reaper, so the caller must do the work itself now.
    pub(crate) fn request_work(&self) -> bool {
        if self.work_requested.swap(true, Ordering::AcqRel) {
            return false; // already requested; the reaper will see it
        }
        let (alive, waiting) = {
            let mut state = self.state.lock();
            (state.alive, state.waiting.take())
        };
        if let Some(waker) = waiting {
            waker.wake();
            false
        } else if !alive {
            self.work_requested.store(false, Ordering::Release);
            true
        } else {
            // Alive but busy: it checks the flag before it waits again.
            false
        }
    }

    /// Ring side: hands the wakers of completed operations to the reaper,
    /// or wakes them at once when there is none. Leaves `wakers` empty.
    pub(crate) fn deliver(&self, wakers: &mut Vec<Waker>) {
        if wakers.is_empty() {
            return;
        }
        let alive = {
            let mut state = self.state.lock();
            if state.alive {
                state.wakes.extend(wakers.drain(..));
            }
            state.alive
        };
        if !alive {
            wakers.drain(..).for_each(Waker::wake);
        } else if !self.work_requested.swap(true, Ordering::AcqRel) {
            let waiting = self.state.lock().waiting.take();
            if let Some(waker) = waiting {
                waker.wake();
            }
        }
    }

    /// Reaper side: true if work was requested; otherwise registers `cx` to
    /// be woken by the next request.
    pub(crate) fn poll_work_request(&self, cx: &Context<'_>) -> bool {
        if self.work_requested.swap(false, Ordering::AcqRel) {
            return true;
        }
        {
            let mut state = self.state.lock();
            state.alive = true;
            set_waker(&mut state.waiting, cx);
        }
        // A request that came in before the waker was registered.
        self.work_requested.swap(false, Ordering::AcqRel)
    }

    /// Reaper side: it stops waiting and works; requests now only set the flag.
    pub(crate) fn reaper_busy(&self) {
        self.state.lock().waiting = None;
    }

    /// Reaper side: wakes up to `limit` of the tasks whose operations
    /// completed, oldest first; returns how many, and whether more are left.
    pub(crate) fn wake_batch(&self, limit: usize) -> (usize, bool) {
        let mut batch = take_scratch();
        let more = {
            let mut state = self.state.lock();
            let n = state.wakes.len().min(limit);
            batch.extend(state.wakes.drain(..n));
            !state.wakes.is_empty()
        };
        let n = batch.len();
        batch.drain(..).for_each(Waker::wake);
        give_scratch(batch);
        (n, more)
    }

    /// The reaper task ended: wakes every task still queued for delivery,
    /// and from now on requests are served at once. Returns true when a
    /// request was pending, which the caller must now serve itself.
    pub(crate) fn reaper_gone(&self) -> bool {
        let state = std::mem::take(&mut *self.state.lock());
        state.wakes.into_iter().for_each(Waker::wake);
        self.work_requested.swap(false, Ordering::AcqRel)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Wake, Waker};

    use super::{Handshake, WAKE_BUDGET};

    #[derive(Default)]
    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting() -> (Arc<Count>, Waker) {
        let count = Arc::new(Count::default());
        let waker = Waker::from(Arc::clone(&count));
        (count, waker)
    }

    #[test]
    fn without_a_reaper_the_requester_does_the_work_and_wakers_fire_at_once() {
        let handshake = Handshake::default();
        assert!(handshake.request_work(), "no reaper: do it yourself");
        assert!(handshake.request_work(), "and again: nothing was left set");
        let (count, waker) = counting();
        let mut wakers = vec![waker.clone(), waker];
        handshake.deliver(&mut wakers);
        assert!(wakers.is_empty());
        assert_eq!(count.0.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn a_waiting_reaper_is_woken_once_and_sees_the_request() {
        let handshake = Handshake::default();
        let (reaper, waker) = counting();
        let cx = Context::from_waker(&waker);
        assert!(!handshake.poll_work_request(&cx), "nothing asked yet");
        assert!(!handshake.request_work(), "the reaper will do it");
        assert!(!handshake.request_work(), "already requested");
        assert_eq!(reaper.0.load(Ordering::SeqCst), 1, "woken once");
        assert!(handshake.poll_work_request(&cx), "the request is seen");
        assert!(!handshake.poll_work_request(&cx), "and taken");
    }

    #[test]
    fn a_request_while_the_reaper_is_busy_is_not_lost() {
        let handshake = Handshake::default();
        let (reaper, waker) = counting();
        let cx = Context::from_waker(&waker);
        assert!(!handshake.poll_work_request(&cx));
        handshake.reaper_busy();
        assert!(!handshake.request_work());
        assert_eq!(
            reaper.0.load(Ordering::SeqCst),
            0,
            "a busy reaper is not woken"
        );
        assert!(
            handshake.poll_work_request(&cx),
            "seen before it waits again"
        );
    }

    #[test]
    fn delivered_wakers_go_out_in_batches_and_all_go_when_the_reaper_ends() {
        let handshake = Handshake::default();
        let (reaper, reaper_waker) = counting();
        let cx = Context::from_waker(&reaper_waker);
        assert!(!handshake.poll_work_request(&cx));
        let (tasks, task_waker) = counting();
        let mut wakers = vec![task_waker; WAKE_BUDGET * 2 + 5];
        handshake.deliver(&mut wakers);
        assert_eq!(tasks.0.load(Ordering::SeqCst), 0, "queued for the reaper");
        assert_eq!(reaper.0.load(Ordering::SeqCst), 1, "which was woken");
        assert_eq!(handshake.wake_batch(WAKE_BUDGET), (WAKE_BUDGET, true));
        assert_eq!(tasks.0.load(Ordering::SeqCst), WAKE_BUDGET);
        assert_eq!(handshake.wake_batch(3), (3, true));
        assert_eq!(tasks.0.load(Ordering::SeqCst), WAKE_BUDGET + 3);
        assert!(handshake.reaper_gone(), "the delivery request was pending");
        assert_eq!(tasks.0.load(Ordering::SeqCst), WAKE_BUDGET * 2 + 5);
        assert!(handshake.request_work(), "no reaper any more");
    }
}

/// The hand-off under the model checker: every interleaving of the ring
/// side (deliveries, work requests) and the reaper side (waiting, working,
/// ending). A lost wake-up shows as a deadlock, which loom reports.
#[cfg(all(test, shardio_loom))]
mod loom_models {
    use std::sync::Arc as StdArc;
    use std::task::{Context, Wake, Waker};

    use loom::sync::Arc;
    use loom::sync::Notify;
    use loom::sync::atomic::{AtomicUsize, Ordering};

    use super::Handshake;

    /// Every interleaving with up to three preemptions (tokio's own loom
    /// tests bound theirs the same way; unbounded, the reaper's loop makes
    /// the search run for hours).
    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut builder = loom::model::Builder::new();
        if builder.preemption_bound.is_none() {
            builder.preemption_bound = Some(3);
        }
        builder.check(f);
    }

    /// A waker that counts its wake-ups and notifies a loom thread.
    struct Flag {
        woken: AtomicUsize,
        notify: Notify,
    }

    impl Wake for Flag {
        fn wake(self: StdArc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &StdArc<Self>) {
            self.woken.fetch_add(1, Ordering::SeqCst);
            self.notify.notify();
        }
    }

    fn flag() -> (StdArc<Flag>, Waker) {
        let flag = StdArc::new(Flag {
            woken: AtomicUsize::new(0),
            notify: Notify::new(),
        });
        let waker = Waker::from(StdArc::clone(&flag));
        (flag, waker)
    }

    /// The reaper task's loop, as `Reaper::run` does it: wait for a work
    /// request, then deliver everything queued; it ends after serving a
    /// request made once `stop` was set.
    fn reaper(handshake: &Handshake, me: &Flag, waker: &Waker, stop: &AtomicUsize) {
        let cx = Context::from_waker(waker);
        loop {
            if handshake.poll_work_request(&cx) {
                handshake.reaper_busy();
                // Read before draining: a stop seen here was set after
                // every delivery, which the drain then covers.
                let last = stop.load(Ordering::SeqCst) == 1;
                while handshake.wake_batch(1).1 {}
                if last {
                    return;
                }
            } else {
                me.notify.wait();
            }
        }
    }

    /// A handshake and its reaper on a thread of its own, registered (alive)
    /// before any operation, as it is spawned with its ring; it ends after
    /// serving a request made once `stop` is set.
    fn start_reaper() -> (
        Arc<Handshake>,
        Arc<AtomicUsize>,
        loom::thread::JoinHandle<()>,
    ) {
        let handshake = Arc::new(Handshake::default());
        let stop = Arc::new(AtomicUsize::new(0));
        let (me, waker) = flag();
        assert!(!handshake.poll_work_request(&Context::from_waker(&waker)));
        let reaper = {
            let (handshake, stop) = (Arc::clone(&handshake), Arc::clone(&stop));
            loom::thread::spawn(move || reaper(&handshake, &me, &waker, &stop))
        };
        (handshake, stop, reaper)
    }

    #[test]
    fn loom_every_delivered_task_is_woken() {
        model(|| {
            let (handshake, stop, reaper) = start_reaper();
            let (task, task_waker) = flag();
            let ring = {
                let handshake = Arc::clone(&handshake);
                loom::thread::spawn(move || {
                    handshake.deliver(&mut vec![task_waker.clone()]);
                    handshake.deliver(&mut vec![task_waker]);
                })
            };
            ring.join().unwrap();
            // A last request after both deliveries: the reaper serves it,
            // with everything queued before it, and ends. A lost request
            // or delivery leaves it waiting for ever, which loom reports.
            stop.store(1, Ordering::SeqCst);
            assert!(!handshake.request_work(), "the reaper is alive");
            reaper.join().unwrap();
            assert_eq!(task.woken.load(Ordering::SeqCst), 2);
        });
    }

    #[test]
    fn loom_a_work_request_reaches_a_busy_or_waiting_reaper() {
        model(|| {
            // The one request the reaper gets is its last.
            let (handshake, stop, reaper) = start_reaper();
            stop.store(1, Ordering::SeqCst);
            assert!(!handshake.request_work(), "a live reaper takes it");
            // A lost request leaves the reaper waiting for ever (a deadlock
            // loom reports).
            reaper.join().unwrap();
        });
    }

    #[test]
    fn loom_a_delivery_racing_the_reapers_end_is_not_lost() {
        model(|| {
            let handshake = Arc::new(Handshake::default());
            let (_reaper, reaper_waker) = flag();
            assert!(!handshake.poll_work_request(&Context::from_waker(&reaper_waker)));
            let (task, task_waker) = flag();
            let ring = {
                let handshake = Arc::clone(&handshake);
                loom::thread::spawn(move || handshake.deliver(&mut vec![task_waker]))
            };
            let _ = handshake.reaper_gone();
            ring.join().unwrap();
            assert_eq!(
                task.woken.load(Ordering::SeqCst),
                1,
                "woken by one side or the other"
            );
        });
    }
}
