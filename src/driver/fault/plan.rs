//! The public side of fault injection: a [`FaultPlan`] says which faults
//! to inject and how often; installing it returns a [`FaultGuard`] that
//! counts what was injected and removes the plan when dropped.

use std::io;
use std::sync::atomic::Ordering::{AcqRel, Relaxed, Release};

use super::{KINDS, Kind, ON, STATE};

/// Faults to inject into every ring of the process, for testing how an
/// application (and shardio) behaves when io_uring fails the ways kernels
/// make it fail. Only with the `fault-injection` feature.
///
/// Rates are "one in N" of the events a fault applies to (0, the default,
/// never). Ring sizes, buffer counts and the failing ring setup apply to
/// rings set up after [`install`](FaultPlan::install), so install the plan
/// before building the runtime.
///
/// ```
/// # #[cfg(feature = "fault-injection")] {
/// use shardio::BuilderExt;
/// use shardio::fault::FaultPlan;
///
/// let guard = FaultPlan::new().seed(7).enter_errors(3).short_transfers(4).install()?;
/// let rt = tokio::runtime::Builder::new_multi_thread()
///     .enable_all()
///     .shardio(shardio::Config::new())
///     .build()?;
/// rt.block_on(async {
///     // ... the code under test ...
/// });
/// println!("{:?}", guard.injected());
/// # }
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct FaultPlan {
    seed: u64,
    one_in: [u32; KINDS],
    ring_entries: u32,
    provided_buffers: u16,
    fail_ring_setup: Option<u64>,
    refuse_registration: bool,
}

impl FaultPlan {
    /// A plan that injects nothing.
    pub fn new() -> FaultPlan {
        FaultPlan::default()
    }

    /// Seeds the draws, so a failing run can be repeated (the order in
    /// which threads draw still varies).
    pub fn seed(mut self, seed: u64) -> FaultPlan {
        self.seed = seed;
        self
    }

    /// One `io_uring_enter` in `one_in` fails with EINTR, EAGAIN or EBUSY
    /// before submitting anything.
    pub fn enter_errors(mut self, one_in: u32) -> FaultPlan {
        self.one_in[Kind::EnterError as usize] = one_in;
        self
    }

    /// One read, write, send or receive in `one_in` asks the kernel for
    /// fewer bytes than the caller offered (at least one), so it returns a
    /// short count.
    pub fn short_transfers(mut self, one_in: u32) -> FaultPlan {
        self.one_in[Kind::ShortTransfer as usize] = one_in;
        self
    }

    /// One operation in `one_in` is followed into the ring by a request to
    /// cancel it, racing its completion: it ends with ECANCELED when the
    /// cancel wins, as when the kernel cancels work on its own (a thread
    /// that submitted it exiting). Applies to the operations shardio can
    /// submit again unchanged (reads, writes, receives, sends, accepts,
    /// opens, syncs), not to connects.
    pub fn cancel_races(mut self, one_in: u32) -> FaultPlan {
        self.one_in[Kind::CancelRace as usize] = one_in;
        self
    }

    /// One multishot receive in `one_in` ends with ENOBUFS as it is armed,
    /// as when the ring's provided buffers have run out.
    pub fn recv_buffers_exhausted(mut self, one_in: u32) -> FaultPlan {
        self.one_in[Kind::RecvNoBuffers as usize] = one_in;
        self
    }

    /// Rings get `entries` SQ and CQ entries (the kernel rounds up to a
    /// power of two): completions overflow the CQ and submissions wait for
    /// SQ room.
    pub fn ring_entries(mut self, entries: u32) -> FaultPlan {
        self.ring_entries = entries;
        self
    }

    /// Rings register `count` provided receive buffers (a power of two,
    /// 1 to 32768) instead of their usual number, so under load the
    /// kernel really runs out and ends receives with ENOBUFS.
    pub fn provided_buffers(mut self, count: u16) -> FaultPlan {
        self.provided_buffers = count;
        self
    }

    /// The `nth` ring set up after the plan is installed (0: the first)
    /// fails with ENOMEM, as over RLIMIT_MEMLOCK: one thread without a
    /// ring while the others have theirs.
    pub fn fail_ring_setup(mut self, nth: u64) -> FaultPlan {
        self.fail_ring_setup = Some(nth);
        self
    }

    /// Every buffer registration (provided receive buffers, registered
    /// buffers of `FixedBufPool` and `AlignedBuf`) fails with ENOMEM, as
    /// over RLIMIT_MEMLOCK.
    pub fn refuse_buffer_registration(mut self) -> FaultPlan {
        self.refuse_registration = true;
        self
    }

    /// Installs the plan for the whole process until the guard is dropped.
    ///
    /// Fails if another plan is installed (tests that inject faults need
    /// a process each, as `cargo nextest` gives them) or if a value is out
    /// of range.
    pub fn install(self) -> io::Result<FaultGuard> {
        if self.provided_buffers != 0 && !self.provided_buffers.is_power_of_two() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "shardio: FaultPlan::provided_buffers({}) is not a power of two; \
                     the kernel's buffer ring needs one (1, 2, 4, ... 32768)",
                    self.provided_buffers
                ),
            ));
        }
        if ON.load(Relaxed) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "shardio: a FaultPlan is already installed in this process; drop its \
                 FaultGuard first, or run each fault test in its own process (cargo nextest)",
            ));
        }
        STATE.rng.store(self.seed, Relaxed);
        for (rate, value) in STATE.one_in.iter().zip(self.one_in) {
            rate.store(value, Relaxed);
        }
        for count in &STATE.injected {
            count.store(0, Relaxed);
        }
        STATE.ring_entries.store(self.ring_entries, Relaxed);
        STATE
            .provided_buffers
            .store(u32::from(self.provided_buffers), Relaxed);
        STATE.setups.store(0, Relaxed);
        STATE
            .fail_setup
            .store(self.fail_ring_setup.map_or(0, |n| n + 1), Relaxed);
        STATE
            .refuse_registration
            .store(self.refuse_registration, Relaxed);
        if ON.swap(true, AcqRel) {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                "shardio: another FaultPlan was installed at the same time",
            ));
        }
        Ok(FaultGuard { _private: () })
    }
}

/// An installed [`FaultPlan`]; dropping it stops the injection (rings
/// already set up keep their sizes).
#[derive(Debug)]
pub struct FaultGuard {
    _private: (),
}

impl FaultGuard {
    /// How many faults of each kind were injected so far.
    pub fn injected(&self) -> Injected {
        let count = |kind: Kind| STATE.injected[kind as usize].load(Relaxed);
        Injected {
            enter_errors: count(Kind::EnterError),
            short_transfers: count(Kind::ShortTransfer),
            cancel_races: count(Kind::CancelRace),
            recv_buffers_exhausted: count(Kind::RecvNoBuffers),
            ring_setup_failures: count(Kind::RingSetup),
            registrations_refused: count(Kind::Registration),
        }
    }
}

impl Drop for FaultGuard {
    fn drop(&mut self) {
        ON.store(false, Release);
    }
}

/// Faults injected since the plan was installed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Injected {
    /// `io_uring_enter` calls failed with EINTR, EAGAIN or EBUSY.
    pub enter_errors: u64,
    /// Transfers asked of the kernel shorter than offered.
    pub short_transfers: u64,
    /// Cancel requests sent after operations.
    pub cancel_races: u64,
    /// Multishot receives ended with ENOBUFS as they were armed.
    pub recv_buffers_exhausted: u64,
    /// Ring setups failed.
    pub ring_setup_failures: u64,
    /// Buffer registrations refused.
    pub registrations_refused: u64,
}
