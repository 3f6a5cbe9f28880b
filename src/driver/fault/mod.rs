//! Fault injection: the hooks the ring and the operations call where a
//! kernel can fail them, and the process-wide plan they consult.
//!
//! Without the `fault-injection` feature every hook is a constant ("no
//! fault") the compiler removes; with it, a hook reads one atomic while no
//! [`FaultPlan`] is installed. What each fault does to the kernel is said
//! at its hook.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering::Relaxed};

cfg_faults! {
    mod plan;
    pub use plan::{FaultGuard, FaultPlan, Injected};
}

/// The faults drawn at random, one in N of the events they apply to.
#[derive(Clone, Copy)]
pub(crate) enum Kind {
    EnterError = 0,
    ShortTransfer = 1,
    CancelRace = 2,
    RecvNoBuffers = 3,
    RingSetup = 4,
    Registration = 5,
}

const KINDS: usize = 6;

/// The installed plan, in atomics so the hooks need no lock.
struct State {
    /// SplitMix64 counter: each draw takes the next value.
    rng: AtomicU64,
    /// One in N for each [`Kind`] drawn at random; 0 never.
    one_in: [AtomicU32; KINDS],
    /// SQ and CQ entries of rings set up while installed; 0 as configured.
    ring_entries: AtomicU32,
    /// Provided receive buffers per ring; 0 as built.
    provided_buffers: AtomicU32,
    /// Ring setups attempted since the plan was installed.
    setups: AtomicU64,
    /// The setup (1-based, counted in `setups`) that fails; 0 none.
    fail_setup: AtomicU64,
    /// Every buffer registration is refused.
    refuse_registration: AtomicBool,
    /// Faults injected since the plan was installed, by [`Kind`].
    injected: [AtomicU64; KINDS],
}

static STATE: State = State {
    rng: AtomicU64::new(0),
    one_in: [const { AtomicU32::new(0) }; KINDS],
    ring_entries: AtomicU32::new(0),
    provided_buffers: AtomicU32::new(0),
    setups: AtomicU64::new(0),
    fail_setup: AtomicU64::new(0),
    refuse_registration: AtomicBool::new(false),
    injected: [const { AtomicU64::new(0) }; KINDS],
};

cfg_faults! {
    /// Whether a plan is installed.
    static ON: AtomicBool = AtomicBool::new(false);

    /// Whether a plan is installed.
    #[inline]
    fn on() -> bool {
        ON.load(Relaxed)
    }
}

cfg_no_faults! {
    /// Never: fault injection is not compiled in.
    #[inline(always)]
    fn on() -> bool {
        false
    }
}

impl State {
    fn next(&self) -> u64 {
        // SplitMix64: a well-mixed value from a counter, without a lock.
        let mut z = self
            .rng
            .fetch_add(0x9E37_79B9_7F4A_7C15, Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Draws `kind`: true (and counted) one time in its N.
    fn roll(&self, kind: Kind) -> bool {
        let n = self.one_in[kind as usize].load(Relaxed);
        let hit = n != 0 && self.next().is_multiple_of(u64::from(n));
        if hit {
            self.count(kind);
        }
        hit
    }

    fn count(&self, kind: Kind) {
        self.injected[kind as usize].fetch_add(1, Relaxed);
    }
}

/// `io_uring_enter` fails as a kernel may make it fail before submitting
/// anything: EINTR (a signal), EAGAIN (no memory for requests) or EBUSY
/// (the CQ overflowed). The caller must not enter.
#[inline]
pub(crate) fn enter_error() -> Option<io::Error> {
    if !on() || !STATE.roll(Kind::EnterError) {
        return None;
    }
    const ERRNOS: [i32; 3] = [libc::EINTR, libc::EAGAIN, libc::EBUSY];
    Some(io::Error::from_raw_os_error(
        ERRNOS[(STATE.next() % 3) as usize],
    ))
}

/// The length to ask the kernel to transfer out of `len`: sometimes less
/// (at least 1 byte), so the kernel makes a short read or write.
#[inline]
pub(crate) fn short_len(len: usize) -> usize {
    if len < 2 || !on() || !STATE.roll(Kind::ShortTransfer) {
        return len;
    }
    1 + (STATE.next() % (len as u64 - 1)) as usize
}

/// Whether to follow an operation into the ring with a cancel request for
/// it, racing the kernel: it ends with ECANCELED if the cancel finds it
/// still pending, as it does when the kernel cancels it on its own.
#[inline]
pub(crate) fn cancel_race() -> bool {
    on() && STATE.roll(Kind::CancelRace)
}

/// Whether a multishot receive about to be armed ends with ENOBUFS first,
/// as when the ring's provided buffers have run out.
#[inline]
pub(crate) fn recv_no_buffers() -> bool {
    on() && STATE.roll(Kind::RecvNoBuffers)
}

/// SQ and CQ sizes for a ring being set up: tiny ones when the plan asks,
/// so the CQ overflows and SQEs wait in the backlog.
#[inline]
pub(crate) fn ring_entries(sq: u32, cq: u32) -> (u32, u32) {
    if !on() {
        return (sq, cq);
    }
    match STATE.ring_entries.load(Relaxed) {
        0 => (sq, cq),
        n => (n, n),
    }
}

/// How many provided receive buffers a ring registers (`default`, or the
/// plan's few, so the kernel runs out and ends receives with ENOBUFS).
#[inline]
pub(crate) fn provided_buffers(default: u16) -> u16 {
    if !on() {
        return default;
    }
    match STATE.provided_buffers.load(Relaxed) {
        0 => default,
        n => u16::try_from(n).unwrap_or(default),
    }
}

/// The error a ring's setup fails with, when it is the plan's chosen one:
/// ENOMEM, as `io_uring_setup` returns over RLIMIT_MEMLOCK.
#[inline]
pub(crate) fn ring_setup_error() -> Option<io::Error> {
    if !on() {
        return None;
    }
    let nth = STATE.setups.fetch_add(1, Relaxed) + 1;
    if nth != STATE.fail_setup.load(Relaxed) {
        return None;
    }
    STATE.count(Kind::RingSetup);
    Some(io::Error::from_raw_os_error(libc::ENOMEM))
}

/// The error a buffer registration fails with when the plan refuses them:
/// ENOMEM, as registration over RLIMIT_MEMLOCK does.
#[inline]
pub(crate) fn registration_error() -> Option<io::Error> {
    if !on() || !STATE.refuse_registration.load(Relaxed) {
        return None;
    }
    STATE.count(Kind::Registration);
    Some(io::Error::from_raw_os_error(libc::ENOMEM))
}
