//! One io_uring instance and the table of operations in flight on it.
//!
//! A ring belongs to the thread that created it (its *owner*): operations
//! started on that thread are pushed here. Completions may be reaped by any
//! thread (the owner in its park hooks, the ring's reaper task on whichever
//! worker Tokio picks, or the awaiting task itself), so the state sits behind
//! a mutex that is uncontended in the common case.

use std::collections::VecDeque;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use io_uring::{IoUring, cqueue, opcode, squeue, types};

use super::buf_ring::{Accounting, BufRing};
use super::buf_table::BufTable;
use super::slab::{Cqe, Lifecycle, Orphan, Slab};
use crate::metrics::counters;
use crate::runtime::config::Config;
use crate::runtime::cpuset::cpu_set_of;
use crate::runtime::groups::Placement;

/// `user_data` of the cancel requests shardio pushes; their CQEs carry no news.
const CANCEL_TAG: u64 = u64::MAX;

/// How long dropping a ring waits for cancelled operations before leaking
/// their buffers rather than freeing memory the kernel may still write.
const DRAIN_DEADLINE: Duration = Duration::from_secs(2);

pub(crate) struct Ring {
    inner: Mutex<Inner>,
    /// Signalled by the kernel for every CQE; watched by the reaper task.
    eventfd: OwnedFd,
    /// Set when the owner thread is gone: the reaper ends once the ring is idle.
    retired: AtomicBool,
    id: u64,
    owner: String,
    placement: Placement,
    /// Receive buffers, registered on first use; `None` if the kernel refused.
    bufs: OnceLock<Option<BufRing>>,
    /// The ring's table of registered buffers.
    buf_table: BufTable,
    /// Work was asked of the reaper task: a deferred submission, or wakers
    /// to deliver.
    work_requested: AtomicBool,
    /// The reaper task, and the wakers of completed operations it delivers.
    reaper: Mutex<ReaperState>,
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

/// Tasks the reaper wakes before letting the worker run them.
const WAKE_BATCH: usize = 64;

fn next_ring_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Pins and bounds the io-wq pool this ring uses. An attached ring shares its
/// group's pool, already configured. Failures only cost isolation: logged.
fn configure_iowq(uring: &IoUring, config: &Config, placement: Placement) {
    let submitter = uring.submitter();
    if let Placement::Primary { cpu, .. } = placement {
        let set = cpu_set_of(&[cpu]);
        if let Err(e) = submitter.register_iowq_aff(&set) {
            tracing::warn!(target: "shardio::driver", error = %e, cpu, "could not pin the io-wq pool to its async-worker core");
        }
    }
    if let Placement::Attached { .. } = placement {
        return;
    }
    let mut limits = config.iowq_limits();
    if let Err(e) = submitter.register_iowq_max_workers(&mut limits) {
        tracing::debug!(target: "shardio::driver", error = %e, "could not bound the io-wq pool");
    }
}

struct Inner {
    uring: IoUring,
    slab: Slab,
    /// SQEs that did not fit in the SQ; pushed first at the next flush.
    backlog: VecDeque<squeue::Entry>,
    /// Storage SQEs pushed since the last submission.
    storage_queued: usize,
    /// `Config::storage_submit_batch`.
    storage_batch: usize,
    /// The provided-buffer ring's accounting, once it is registered: CQEs
    /// carrying a buffer are accounted in CQ order as they are reaped.
    buf_acct: Option<Arc<Accounting>>,
}

thread_local! {
    /// A waker buffer reused across reaps, so the hot path does not allocate.
    static WAKER_SCRATCH: std::cell::Cell<Vec<Waker>> = const { std::cell::Cell::new(Vec::new()) };
}

/// Takes the thread's scratch waker buffer (empty, with its capacity).
fn take_scratch() -> Vec<Waker> {
    WAKER_SCRATCH.try_with(|c| c.take()).unwrap_or_default()
}

/// Returns a drained waker buffer for reuse.
fn give_scratch(mut wakers: Vec<Waker>) {
    wakers.clear();
    let _ = WAKER_SCRATCH.try_with(|c| c.set(wakers));
}

/// What a reap collected, to be acted on after the lock is released:
/// wakers may run arbitrary code and dropped buffers may be large.
struct Reaped {
    wakers: Vec<Waker>,
    dropped: Vec<Box<dyn Orphan>>,
    /// Provided-buffer data that arrived for dropped operations.
    release: Vec<u16>,
}

impl Default for Reaped {
    fn default() -> Self {
        Reaped {
            wakers: take_scratch(),
            dropped: Vec::new(),
            release: Vec::new(),
        }
    }
}

impl Reaped {
    /// A CQE nobody will read: give back the provided buffer it carries.
    fn release_buffer(&mut self, cqe: Cqe) {
        if let Some(bid) = cqueue::buffer_select(cqe.flags) {
            self.release.push(bid);
        }
    }

    fn finish(mut self, ring: &Ring) {
        ring.deliver(&mut self.wakers);
        give_scratch(self.wakers);
        drop(self.dropped);
        if let Some(Some(bufs)) = ring.bufs.get() {
            for bid in self.release {
                bufs.release(bid);
            }
        }
    }
}

impl Ring {
    /// Creates a ring as `config` says, with an eventfd registered for CQEs.
    pub(crate) fn new(config: &Config, placement: Placement) -> io::Result<Ring> {
        let mut builder = IoUring::builder();
        builder.setup_cqsize(config.cq_entries).setup_clamp();
        let idle_ms = config.sq_poll_idle.as_millis().min(u128::from(u32::MAX)) as u32;
        match placement {
            // COOP_TASKRUN: the kernel runs completion work (e.g. a multishot
            // receive) when this thread next enters the kernel, instead of
            // interrupting it with an IPI while it runs tasks; measured on the
            // echo benchmark it removed most of the socket-lock contention of
            // receiving (13.6 -> 4.3 µs of server CPU per request). The kernel
            // refuses it with SQPOLL, where the poll thread runs that work.
            Placement::Plain => {
                builder.setup_coop_taskrun().setup_taskrun_flag();
            }
            Placement::Primary { cpu, .. } => {
                builder.setup_sqpoll(idle_ms).setup_sqpoll_cpu(cpu as u32);
            }
            Placement::Attached { to, .. } => {
                builder.setup_sqpoll(idle_ms).setup_attach_wq(to);
            }
        }
        let uring = match builder.build(config.ring_entries) {
            // Kernels before 5.19 lack COOP_TASKRUN: a plain ring without it.
            Err(e)
                if e.raw_os_error() == Some(libc::EINVAL)
                    && matches!(placement, Placement::Plain) =>
            {
                IoUring::builder()
                    .setup_cqsize(config.cq_entries)
                    .setup_clamp()
                    .build(config.ring_entries)?
            }
            other => other?,
        };
        configure_iowq(&uring, config, placement);
        // SAFETY: eventfd(2) has no memory-safety preconditions.
        let fd = unsafe { libc::eventfd(0, libc::EFD_NONBLOCK | libc::EFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` was just returned by eventfd(2) and nothing else owns it.
        let eventfd = unsafe { OwnedFd::from_raw_fd(fd) };
        uring.submitter().register_eventfd(eventfd.as_raw_fd())?;
        counters().ring_created();
        let thread = std::thread::current();
        Ok(Ring {
            inner: Mutex::new(Inner {
                uring,
                slab: Slab::new(),
                backlog: VecDeque::new(),
                storage_queued: 0,
                storage_batch: config.storage_submit_batch,
                buf_acct: None,
            }),
            eventfd,
            retired: AtomicBool::new(false),
            bufs: OnceLock::new(),
            buf_table: BufTable::default(),
            work_requested: AtomicBool::new(false),
            reaper: Mutex::new(ReaperState::default()),
            id: next_ring_id(),
            owner: thread
                .name()
                .map_or_else(|| format!("{:?}", thread.id()), str::to_owned),
            placement,
        })
    }

    /// Registers `pool`'s buffers with this ring, once; errors if another
    /// pool is registered here or the kernel refuses.
    pub(crate) fn register_fixed(&self, pool: &crate::buf::PoolInner) -> io::Result<()> {
        self.buf_table.register_pool(self, pool)
    }

    /// For an operation about to use `[ptr, ptr + len)`: its slot in this
    /// ring's buffer table if the memory lies in the `AlignedBuf` arena
    /// (registering the chunk on its first use here); `None` if it does not
    /// or the kernel refuses (the operation then uses it unregistered).
    pub(crate) fn registered_slot(&self, ptr: *const u8, len: usize) -> Option<u16> {
        let chunk = crate::buf::arena::chunk_of(ptr, len)?;
        let slot = self.buf_table.arena_slot(self, chunk)?;
        counters().op_registered_buf();
        Some(slot)
    }

    /// Runs `f` with the ring's submitter (for registrations).
    pub(super) fn with_submitter<R>(&self, f: impl FnOnce(&io_uring::Submitter<'_>) -> R) -> R {
        f(&self.lock().uring.submitter())
    }

    /// The ring's provided receive buffers, registered on first use.
    /// `None` where the kernel lacks buffer rings (before 5.19).
    pub(crate) fn bufs(&self) -> Option<&BufRing> {
        self.bufs
            .get_or_init(|| {
                let mut inner = self.lock();
                match BufRing::register(&inner.uring) {
                    Ok(bufs) => {
                        inner.buf_acct = Some(bufs.accounting());
                        Some(bufs)
                    }
                    Err(e) => {
                        tracing::debug!(target: "shardio::driver", error = %e, "no provided-buffer ring; receives use owned buffers");
                        None
                    }
                }
            })
            .as_ref()
    }

    /// Process-unique id, as shown in metrics.
    pub(crate) fn id(&self) -> u64 {
        self.id
    }

    /// Name (or id) of the thread that created the ring.
    pub(crate) fn owner(&self) -> &str {
        &self.owner
    }

    pub(crate) fn placement(&self) -> Placement {
        self.placement
    }

    /// The ring's own fd, for `ATTACH_WQ`.
    pub(crate) fn ring_fd(&self) -> RawFd {
        self.lock().uring.as_raw_fd()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock leaves the slab consistent (every
        // mutation is a single step), so a poisoned lock is still usable.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Pushes `sqe` for a new operation in state `lifecycle` and returns its
    /// slot. The SQE is not submitted until the next [`flush`](Ring::flush).
    /// A `storage` SQE counts towards `Config::storage_submit_batch`: the
    /// second value is true when that many are queued, and the caller should
    /// submit them now ([`submit_only`](Ring::submit_only)).
    ///
    /// # Safety
    ///
    /// Every pointer in `sqe` must stay valid until the operation's final CQE
    /// has been reaped: the caller keeps the memory in its `Op` and hands it to
    /// [`cancel`](Ring::cancel) if the op is dropped early.
    pub(crate) unsafe fn push(
        &self,
        sqe: squeue::Entry,
        lifecycle: Lifecycle,
        storage: bool,
    ) -> (usize, bool) {
        let mut inner = self.lock();
        let index = inner.slab.insert(lifecycle);
        inner.push_sqe(sqe.user_data(index as u64));
        counters().op_submitted();
        let mut submit_now = false;
        if storage {
            inner.storage_queued += 1;
            submit_now = inner.storage_queued >= inner.storage_batch;
        }
        (index, submit_now)
    }

    /// Submits everything pushed so far, and reaps.
    pub(crate) fn flush(&self) {
        let mut reaped = Reaped::default();
        {
            let mut inner = self.lock();
            inner.flush(&mut reaped);
            inner.reap(&mut reaped);
        }
        reaped.finish(self);
    }

    /// Before the owner thread sleeps with operations in flight: spins up
    /// to `budget` for a completion (posted, or pending as kernel task work)
    /// so the thread need not sleep and be woken for it. Returns at once
    /// when nothing is in flight. Task work found pending is run (one enter)
    /// so its completions are posted and signal the eventfd.
    pub(crate) fn spin_for_completion(&self, budget: std::time::Duration) {
        let deadline = Instant::now() + budget;
        let mut inner = self.lock();
        if inner.slab.len() == 0 {
            return;
        }
        loop {
            if !inner.uring.completion().is_empty() {
                return;
            }
            if inner.uring.submission().taskrun() {
                counters().enter();
                inner.storage_queued = 0;
                let _ = inner.uring.submitter().submit_and_wait(0);
                return;
            }
            if Instant::now() >= deadline {
                return;
            }
            drop(inner);
            std::hint::spin_loop();
            inner = self.lock();
        }
    }

    /// Submits what is queued without reaping: for Tokio's park hooks, which
    /// run while the worker's run queue is detached, so any task woken there
    /// would land in the global queue, which a busy worker drains slowly.
    /// The completions reach their tasks through the reaper instead (the
    /// eventfd stays armed).
    pub(crate) fn submit_only(&self) {
        let mut inner = self.lock();
        if inner.backlog.is_empty() && inner.uring.submission().is_empty() {
            return;
        }
        while let Some(sqe) = inner.backlog.pop_front() {
            // SAFETY: as in `push_sqe`.
            if unsafe { inner.uring.submission().push(&sqe) }.is_err() {
                inner.backlog.push_front(sqe);
                break;
            }
        }
        counters().enter();
        inner.storage_queued = 0;
        if let Err(e) = inner.uring.submitter().submit() {
            tracing::debug!(target: "shardio::driver", error = %e, "submit from a park hook failed; the reaper retries");
            drop(inner);
            self.request_flush();
        }
    }

    /// Polls a single-shot operation for its completion.
    pub(crate) fn poll_complete(&self, index: usize, cx: &mut Context<'_>) -> Poll<Cqe> {
        let mut reaped = Reaped::default();
        let poll = {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            match inner.slab.get_mut(index) {
                Some(Lifecycle::Completed(_)) => match inner.slab.remove(index) {
                    Some(Lifecycle::Completed(cqe)) => Poll::Ready(cqe),
                    _ => unreachable!(),
                },
                Some(Lifecycle::Waiting(waker)) => {
                    update_waker(waker, cx);
                    Poll::Pending
                }
                _ => unreachable!("poll_complete on a slot that is not a live single-shot op"),
            }
        };
        reaped.finish(self);
        poll
    }

    /// Polls a multishot operation for its next completion; `None` once the
    /// final CQE was taken (the slot is then free).
    pub(crate) fn poll_next(&self, index: usize, cx: &mut Context<'_>) -> Poll<Option<Cqe>> {
        let mut reaped = Reaped::default();
        let poll = {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            match inner.slab.get_mut(index) {
                Some(Lifecycle::Streaming {
                    waker,
                    queue,
                    finished,
                }) => {
                    if let Some(cqe) = queue.pop_front() {
                        Poll::Ready(Some(cqe))
                    } else if *finished {
                        inner.slab.remove(index);
                        Poll::Ready(None)
                    } else {
                        update_waker(waker, cx);
                        Poll::Pending
                    }
                }
                _ => unreachable!("poll_next on a slot that is not a live multishot op"),
            }
        };
        reaped.finish(self);
        poll
    }

    /// The op in `index` was dropped: keep `data` (its buffers and fds) alive
    /// until the kernel is done, and ask the kernel to cancel the operation.
    /// With `flush_now` false the cancel request waits for the next flush.
    pub(crate) fn cancel(&self, index: usize, data: Box<dyn Orphan>, flush_now: bool) {
        self.orphan(index, data, true, flush_now);
    }

    /// The op in `index` was dropped but should run to completion (e.g. a
    /// send whose bytes the caller was told were written): keep `data` alive
    /// until its CQE, without cancelling.
    pub(crate) fn detach(&self, index: usize, data: Box<dyn Orphan>) {
        self.orphan(index, data, false, false);
    }

    fn orphan(&self, index: usize, mut data: Box<dyn Orphan>, cancel: bool, flush_now: bool) {
        let mut reaped = Reaped::default();
        {
            let mut inner = self.lock();
            inner.reap(&mut reaped);
            // Results that arrived but were never taken go to the orphan.
            match inner.slab.get_mut(index) {
                Some(Lifecycle::Completed(cqe)) => {
                    data.cqe(*cqe);
                    reaped.release_buffer(*cqe);
                }
                Some(Lifecycle::Streaming { queue, .. }) => {
                    for cqe in queue.drain(..) {
                        data.cqe(cqe);
                        reaped.release_buffer(cqe);
                    }
                }
                _ => {}
            }
            match inner.slab.get_mut(index) {
                Some(Lifecycle::Completed(_))
                | Some(Lifecycle::Streaming { finished: true, .. }) => {
                    inner.slab.remove(index);
                    reaped.dropped.push(data);
                }
                Some(slot) if !cancel => *slot = Lifecycle::Ignored(data),
                Some(slot) => {
                    *slot = Lifecycle::Ignored(data);
                    counters().op_cancelled();
                    let cancel = opcode::AsyncCancel::new(index as u64)
                        .build()
                        .user_data(CANCEL_TAG);
                    inner.push_sqe(cancel);
                    if flush_now {
                        inner.flush(&mut reaped);
                    }
                }
                None => unreachable!("cancel of a free slot"),
            }
        }
        reaped.finish(self);
    }

    /// Asks the reaper task to submit soon, after the worker ran the tasks
    /// that are ready now, so their SQEs go to the kernel in one enter.
    /// Submits at once if there is no reaper (the runtime is shutting down).
    pub(crate) fn request_flush(&self) {
        if self.work_requested.swap(true, Ordering::AcqRel) {
            return; // already requested; the reaper will see it
        }
        let (alive, waiting) = {
            let mut reaper = self.reaper.lock().unwrap_or_else(|e| e.into_inner());
            (reaper.alive, reaper.waiting.take())
        };
        if let Some(waker) = waiting {
            waker.wake();
        } else if !alive {
            self.work_requested.store(false, Ordering::Release);
            self.flush();
        }
        // Alive but busy: it checks the flag before it waits again.
    }

    /// Hands the wakers of completed operations to the reaper, or wakes
    /// them at once when there is none. Leaves `wakers` empty.
    fn deliver(&self, wakers: &mut Vec<Waker>) {
        if wakers.is_empty() {
            return;
        }
        let alive = {
            let mut reaper = self.reaper.lock().unwrap_or_else(|e| e.into_inner());
            if reaper.alive {
                reaper.wakes.extend(wakers.drain(..));
            }
            reaper.alive
        };
        if !alive {
            wakers.drain(..).for_each(Waker::wake);
        } else if !self.work_requested.swap(true, Ordering::AcqRel) {
            let waiting = self
                .reaper
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .waiting
                .take();
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
            let mut reaper = self.reaper.lock().unwrap_or_else(|e| e.into_inner());
            reaper.alive = true;
            update_waker(&mut reaper.waiting, cx);
        }
        // A request that came in before the waker was registered.
        self.work_requested.swap(false, Ordering::AcqRel)
    }

    /// Reaper side: it stops waiting and works; requests now only set the flag.
    pub(crate) fn reaper_busy(&self) {
        self.reaper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .waiting = None;
    }

    /// Reaper side: wakes the next batch of tasks whose operations completed;
    /// returns how many, and whether more are left.
    pub(crate) fn wake_batch(&self) -> (usize, bool) {
        let mut batch = take_scratch();
        let more = {
            let mut reaper = self.reaper.lock().unwrap_or_else(|e| e.into_inner());
            let n = reaper.wakes.len().min(WAKE_BATCH);
            batch.extend(reaper.wakes.drain(..n));
            !reaper.wakes.is_empty()
        };
        let n = batch.len();
        batch.drain(..).for_each(Waker::wake);
        give_scratch(batch);
        (n, more)
    }

    /// The reaper task ended: requests are served at once from now on.
    pub(crate) fn reaper_gone(&self) {
        let state = std::mem::take(&mut *self.reaper.lock().unwrap_or_else(|e| e.into_inner()));
        state.wakes.into_iter().for_each(Waker::wake);
        if self.work_requested.swap(false, Ordering::AcqRel) {
            self.flush();
        }
    }

    /// Marks the owner thread as gone; the reaper task ends once the ring is idle.
    pub(crate) fn retire(&self) {
        self.retired.store(true, Ordering::Release);
        self.notify();
    }

    pub(crate) fn is_retired(&self) -> bool {
        self.retired.load(Ordering::Acquire)
    }

    /// True when no operation is in flight on this ring.
    pub(crate) fn is_idle(&self) -> bool {
        self.lock().slab.len() == 0
    }

    pub(crate) fn eventfd(&self) -> RawFd {
        self.eventfd.as_raw_fd()
    }

    /// Wakes the reaper task without a CQE.
    fn notify(&self) {
        let one = 1u64;
        // SAFETY: writes 8 bytes from a local u64 to an fd this ring owns.
        let _ = unsafe {
            libc::write(
                self.eventfd.as_raw_fd(),
                (&raw const one).cast::<libc::c_void>(),
                std::mem::size_of::<u64>(),
            )
        };
    }
}

fn update_waker(slot: &mut Option<Waker>, cx: &Context<'_>) {
    match slot {
        Some(waker) if waker.will_wake(cx.waker()) => {}
        _ => *slot = Some(cx.waker().clone()),
    }
}

impl Inner {
    fn push_sqe(&mut self, sqe: squeue::Entry) {
        if !self.backlog.is_empty() {
            self.backlog.push_back(sqe);
            return;
        }
        // SAFETY: the SQE's pointers are kept valid by the op's slot until its
        // final CQE (see `Ring::push`); cancel SQEs point at nothing.
        if unsafe { self.uring.submission().push(&sqe) }.is_err() {
            self.backlog.push_back(sqe);
        }
    }

    /// Moves the backlog into the SQ and enters the kernel if anything is
    /// queued (or the CQ overflowed and needs flushing); reaps after entering.
    fn flush(&mut self, reaped: &mut Reaped) {
        for _ in 0..64 {
            while let Some(sqe) = self.backlog.front() {
                // SAFETY: as in `push_sqe`.
                if unsafe { self.uring.submission().push(sqe) }.is_err() {
                    break;
                }
                self.backlog.pop_front();
            }
            let mut sq = self.uring.submission();
            let overflow = sq.cq_overflow();
            if sq.is_empty() && !overflow {
                return;
            }
            sq.sync();
            drop(sq);
            if overflow {
                counters().cq_overflow();
            }
            // With an SQ-poll thread awake, `submit` makes no system call.
            if !self.uring.params().is_setup_sqpoll()
                || overflow
                || self.uring.submission().need_wakeup()
            {
                counters().enter();
            }
            // Completions posted during this enter (page-cache reads, nops)
            // are reaped right below by this thread: keep them from also
            // signalling the eventfd and waking the reaper through epoll.
            self.uring.completion().disable_eventfd();
            self.storage_queued = 0;
            let submitted = self.uring.submitter().submit();
            self.uring.completion().enable_eventfd();
            // Anything posted while the eventfd was off is reaped now; what
            // comes later signals it again.
            self.reap(reaped);
            match submitted {
                Ok(_) => {}
                Err(e) if e.raw_os_error() == Some(libc::EINTR) => continue,
                // The CQ was full: the reap above made room; try again.
                Err(e) if matches!(e.raw_os_error(), Some(libc::EBUSY) | Some(libc::EAGAIN)) => {
                    continue;
                }
                Err(e) => {
                    tracing::error!(target: "shardio::driver", error = %e, "io_uring_enter failed");
                    return;
                }
            }
            // Done when nothing is left to submit and the kernel holds no
            // overflowed completions (those need another enter to move into
            // the CQ, now that the reap above made room).
            if self.backlog.is_empty() && !self.uring.submission().cq_overflow() {
                return;
            }
        }
    }

    /// Moves every available CQE into its slot.
    fn reap(&mut self, reaped: &mut Reaped) {
        let Inner {
            uring,
            slab,
            buf_acct,
            ..
        } = self;
        for entry in uring.completion() {
            if entry.user_data() == CANCEL_TAG {
                continue;
            }
            let mut cqe = Cqe {
                result: entry.result(),
                flags: entry.flags(),
                buf_offset: 0,
            };
            if let (Some(acct), Some(bid)) = (buf_acct.as_ref(), cqueue::buffer_select(cqe.flags)) {
                let len = u32::try_from(cqe.result).unwrap_or(0);
                cqe.buf_offset = acct.consume(bid, len, cqueue::buffer_more(cqe.flags));
            }
            let index = entry.user_data() as usize;
            let Some(slot) = slab.get_mut(index) else {
                tracing::debug!(target: "shardio::driver", index, "CQE for a free slot ignored");
                // Its provided buffer (accounted above) still goes back.
                reaped.release_buffer(cqe);
                continue;
            };
            match slot {
                Lifecycle::Waiting(waker) => {
                    reaped.wakers.extend(waker.take());
                    *slot = Lifecycle::Completed(cqe);
                    counters().op_completed();
                }
                Lifecycle::Streaming {
                    waker,
                    queue,
                    finished,
                } => {
                    queue.push_back(cqe);
                    if !cqe.more() {
                        *finished = true;
                        counters().op_completed();
                    }
                    reaped.wakers.extend(waker.take());
                }
                Lifecycle::Ignored(orphan) => {
                    orphan.cqe(cqe);
                    reaped.release_buffer(cqe);
                    if !cqe.more() {
                        if let Some(Lifecycle::Ignored(data)) = slab.remove(index) {
                            reaped.dropped.push(data);
                        }
                    }
                }
                // A notification after completion (e.g. zero-copy send): nothing to do.
                Lifecycle::Completed(_) => {}
            }
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        let inner = self.inner.get_mut().unwrap_or_else(|e| e.into_inner());
        if inner.slab.len() > 0 && !inner.cancel_all_and_drain() {
            // The kernel may still receive into these buffers.
            if let Some(Some(bufs)) = self.bufs.take() {
                bufs.leak();
            }
        }
        counters().ring_dropped();
    }
}

impl Inner {
    /// Shutdown: cancels every operation still known to the kernel and waits
    /// (bounded) for their last CQEs. What does not arrive in time is leaked,
    /// never freed: the kernel may still write into it. True if all arrived.
    fn cancel_all_and_drain(&mut self) -> bool {
        let pending: Vec<usize> = self.slab.occupied().collect();
        for index in pending {
            let cancel = opcode::AsyncCancel::new(index as u64)
                .build()
                .user_data(CANCEL_TAG);
            self.push_sqe(cancel);
        }
        let deadline = Instant::now() + DRAIN_DEADLINE;
        let mut reaped = Reaped::default();
        while self.slab.len() > 0 {
            self.flush(&mut reaped);
            self.reap(&mut reaped);
            let now = Instant::now();
            if self.slab.len() == 0 || now >= deadline {
                break;
            }
            let wait = types::Timespec::from((deadline - now).min(Duration::from_millis(20)));
            let args = types::SubmitArgs::new().timespec(&wait);
            counters().enter();
            // ETIME (timeout) and EINTR are expected; the loop re-checks.
            let _ = self.uring.submitter().submit_with_args(1, &args);
        }
        // The tasks these wakers belong to are being torn down.
        drop(reaped.wakers);
        drop(reaped.dropped);
        if self.slab.len() > 0 {
            tracing::warn!(
                target: "shardio::driver",
                in_flight = self.slab.len(),
                "ring dropped with operations the kernel did not finish within {DRAIN_DEADLINE:?}; \
                 their buffers are leaked rather than freed while the kernel may write to them"
            );
            std::mem::forget(std::mem::replace(&mut self.slab, Slab::new()));
            return false;
        }
        true
    }
}
