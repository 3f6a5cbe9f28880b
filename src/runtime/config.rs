//! `Config`: what a runtime's rings look like and which user hooks to chain.

use std::fmt;
use std::io;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crate::driver::{CpuSet, RingParams};
use crate::sched::IoProperties;

pub(crate) type Hook = Arc<dyn Fn() + Send + Sync + 'static>;

cfg_unstable! {
    pub(crate) type PollHook = Arc<dyn Fn(&tokio::runtime::TaskMeta<'_>) + Send + Sync + 'static>;
}

/// Largest submission queue the kernel accepts.
const MAX_RING_ENTRIES: u32 = 32_768;

// One bit per setting, set by its `Config` setter.
pub(super) const RING_ENTRIES: u32 = 1 << 0;
pub(super) const FORCE_FALLBACK: u32 = 1 << 1;
pub(super) const ASYNC_WORKERS: u32 = 1 << 2;
pub(super) const SQ_POLL_IDLE: u32 = 1 << 3;
pub(super) const IOWQ_MAX_WORKERS: u32 = 1 << 4;
pub(super) const PIN_WORKERS: u32 = 1 << 5;
pub(super) const STALL_THRESHOLD: u32 = 1 << 6;
pub(super) const STALL_REPORTS_PER_MINUTE: u32 = 1 << 7;
pub(super) const SPIN_BEFORE_PARK: u32 = 1 << 8;
pub(super) const STORAGE_SUBMIT_BATCH: u32 = 1 << 9;
pub(super) const IO_PROPERTIES: u32 = 1 << 10;
pub(super) const IO_LATENCY_GOAL: u32 = 1 << 11;
pub(super) const IO_INFLIGHT_CAP: u32 = 1 << 12;

/// Configuration of shardio for one Tokio runtime.
///
/// A `Config` is valid by construction: setters that can receive a bad value
/// return `io::Result<Config>`, so an invalid configuration is an error where
/// it is written, before any runtime thread exists.
///
/// Because each Tokio hook holds one closure, a runtime configured with
/// [`BuilderExt::shardio`](crate::BuilderExt::shardio) takes its thread and
/// park hooks from here: pass yours with [`on_thread_start`](Config::on_thread_start)
/// and friends and shardio calls them after its own work.
///
/// ```
/// use shardio::{BuilderExt, Config};
///
/// # fn main() -> std::io::Result<()> {
/// let config = Config::default()
///     .ring_entries(512)?
///     .on_thread_start(|| println!("worker started"));
/// let rt = tokio::runtime::Builder::new_multi_thread()
///     .worker_threads(2)
///     .enable_all()
///     .shardio(config)
///     .build()?;
/// rt.block_on(async { shardio::nop().await })?;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Config {
    /// How each ring is set up (queue sizes, SQ-poll idle, io-wq limits,
    /// storage batching): the driver's own type.
    pub(crate) ring: RingParams,
    pub(crate) force_fallback: bool,
    pub(crate) async_workers: Option<CpuSet>,
    pub(crate) pin_workers: Option<CpuSet>,
    pub(crate) stall_threshold: Option<Duration>,
    pub(crate) spin_before_park: Duration,
    pub(crate) stall_reports_per_minute: u32,
    /// The scheduler's device model, latency goal and in-flight cap; `None`
    /// when none of them was configured (the process-wide settings stay).
    pub(crate) sched: Option<SchedConfig>,
    /// The settings the code set, one bit each (see `env.rs`): environment
    /// variables fill in only the others.
    pub(crate) set_by_code: u32,
    /// Whether `BuilderExt::shardio` applies `SHARDIO_*` variables.
    pub(crate) use_env: bool,
    pub(crate) on_thread_start: Option<Hook>,
    pub(crate) on_thread_stop: Option<Hook>,
    pub(crate) on_thread_park: Option<Hook>,
    pub(crate) on_thread_unpark: Option<Hook>,
    #[cfg(tokio_unstable)]
    pub(crate) on_before_task_poll: Option<PollHook>,
    #[cfg(tokio_unstable)]
    pub(crate) on_after_task_poll: Option<PollHook>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            ring: RingParams::default(),
            force_fallback: false,
            async_workers: None,
            pin_workers: None,
            stall_threshold: None,
            spin_before_park: Duration::ZERO,
            stall_reports_per_minute: 5,
            sched: None,
            set_by_code: 0,
            use_env: true,
            on_thread_start: None,
            on_thread_stop: None,
            on_thread_park: None,
            on_thread_unpark: None,
            #[cfg(tokio_unstable)]
            on_before_task_poll: None,
            #[cfg(tokio_unstable)]
            on_after_task_poll: None,
        }
    }
}

impl Config {
    /// The default configuration: 256 submission entries per ring, a
    /// completion queue of 4096, io_uring used wherever the kernel allows.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the submission queue size of each ring (the kernel rounds it up to
    /// a power of two); the completion queue gets at least 8 times as many
    /// entries. Errors if `entries` is 0 or above 32768.
    ///
    /// ```
    /// assert!(shardio::Config::default().ring_entries(0).is_err());
    /// assert!(shardio::Config::default().ring_entries(1024).is_ok());
    /// ```
    pub fn ring_entries(mut self, entries: u32) -> io::Result<Self> {
        if entries == 0 || entries > MAX_RING_ENTRIES {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "shardio: ring_entries({entries}) is out of range: \
                     the kernel accepts 1 to {MAX_RING_ENTRIES} submission entries per ring"
                ),
            ));
        }
        self.ring.sq_entries = entries;
        self.set_by_code |= RING_ENTRIES;
        self.ring.cq_entries = self.ring.cq_entries.max(entries.next_power_of_two() * 8);
        Ok(self)
    }

    /// Runs every shardio operation of this runtime on the fallback path
    /// (the blocking pool for files) even where io_uring works. The
    /// environment variable `SHARDIO_FORCE_FALLBACK=1` does the same for every
    /// runtime of the process.
    pub fn force_fallback(mut self, force: bool) -> Self {
        self.force_fallback = force;
        self.set_by_code |= FORCE_FALLBACK;
        self
    }

    /// Moves the kernel's I/O work of every ring of the runtime onto the
    /// *async-worker cores* `cpuset` (kernel list syntax: `"3"`, `"2-3"`,
    /// `"0,2,4-5"`), so application cores only run futures.
    ///
    /// The rings form `min(runtime threads, |cpuset|)` groups, assigned round
    /// robin. The first ring of a group gets an SQ-poll kernel thread
    /// (`IORING_SETUP_SQPOLL | SQ_AFF`) on its core and pins its io-wq worker
    /// pool there; the group's other rings attach to it
    /// (`IORING_SETUP_ATTACH_WQ`), sharing the poll thread and the pool. The
    /// SQ-poll thread picks up submissions without system calls while it is
    /// awake (see [`sq_poll_idle`](Config::sq_poll_idle)). Where the kernel
    /// refuses SQ polling, rings are plain and one warning says why.
    ///
    /// Errors if the set is empty, malformed, or names a CPU that does not
    /// exist. See [`metrics()`](crate::metrics) for the groups formed.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let config = shardio::Config::default().async_workers("1")?;
    /// assert!(shardio::Config::default().async_workers("").is_err());
    /// # drop(config);
    /// # Ok(())
    /// # }
    /// ```
    pub fn async_workers(mut self, cpuset: &str) -> io::Result<Self> {
        self.async_workers = Some(CpuSet::parse(cpuset, "async_workers")?);
        self.set_by_code |= ASYNC_WORKERS;
        Ok(self)
    }

    /// How long an SQ-poll thread spins without work before it sleeps
    /// (default 2 ms); a sleeping thread costs one system call to wake.
    /// Only meaningful with [`async_workers`](Config::async_workers).
    /// Errors below 1 ms or above 10 s.
    pub fn sq_poll_idle(mut self, idle: Duration) -> io::Result<Self> {
        if idle < Duration::from_millis(1) || idle > Duration::from_secs(10) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shardio: sq_poll_idle({idle:?}) is out of range: use 1 ms to 10 s"),
            ));
        }
        self.ring.sq_poll_idle = idle;
        self.set_by_code |= SQ_POLL_IDLE;
        Ok(self)
    }

    /// Caps the kernel's io-wq worker threads per pool: `bounded` for work
    /// that completes on its own (regular files), `unbounded` for work that
    /// may wait indefinitely. Default: 4 × CPUs and 512 (Tokio's blocking
    /// pool size). Errors on zero.
    pub fn iowq_max_workers(mut self, bounded: u32, unbounded: u32) -> io::Result<Self> {
        if bounded == 0 || unbounded == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "shardio: iowq_max_workers({bounded}, {unbounded}): both limits must be at least 1"
                ),
            ));
        }
        self.ring.iowq_max_workers = Some([bounded, unbounded]);
        self.set_by_code |= IOWQ_MAX_WORKERS;
        Ok(self)
    }

    /// Pins every runtime thread (workers and blocking-pool threads, not the
    /// thread calling `block_on`) to the *application cores* `cpuset`.
    /// Overlap with [`async_workers`](Config::async_workers) is allowed but
    /// logged once as a warning. Errors as for `async_workers`.
    pub fn pin_workers(mut self, cpuset: &str) -> io::Result<Self> {
        self.pin_workers = Some(CpuSet::parse(cpuset, "pin_workers")?);
        self.set_by_code |= PIN_WORKERS;
        Ok(self)
    }

    /// Reports any task poll that runs longer than `threshold` while it is
    /// still running: a `tracing` warning (target `shardio::stall`) naming
    /// the worker thread and task, how long it has run, and a backtrace of
    /// the stalled thread taken at that moment (Seastar's blocked-reactor
    /// report). Counters appear in [`metrics()`](crate::metrics).
    ///
    /// It uses Tokio's task-poll hooks, so it needs `--cfg tokio_unstable`
    /// (e.g. `RUSTFLAGS="--cfg tokio_unstable"`); without it this returns an
    /// error rather than silently doing nothing. A zero threshold is an error.
    pub fn stall_threshold(mut self, threshold: Duration) -> io::Result<Self> {
        if threshold.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "shardio: stall_threshold must be above zero (e.g. 10 ms)",
            ));
        }
        if cfg!(not(tokio_unstable)) {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "shardio: stall_threshold needs Tokio's task-poll hooks, which exist only with \
                 --cfg tokio_unstable: build with RUSTFLAGS=\"--cfg tokio_unstable\"",
            ));
        }
        self.stall_threshold = Some(threshold);
        self.set_by_code |= STALL_THRESHOLD;
        Ok(self)
    }

    /// At most this many stall reports a minute (default 5, as Seastar);
    /// the others are counted and the next report says how many.
    pub fn stall_reports_per_minute(mut self, reports: u32) -> Self {
        self.stall_reports_per_minute = reports;
        self.set_by_code |= STALL_REPORTS_PER_MINUTE;
        self
    }

    /// Before a worker sleeps with operations in flight on its ring, spin
    /// up to `spin` for a completion instead of sleeping and being woken
    /// for it (Seastar polls before it sleeps). Trades CPU for latency;
    /// off by default. Measured here (O_DIRECT 4 KiB reads at queue depth 1,
    /// `benches/fs.rs`): 50 µs raised IOPS from 1.06x to 1.21x fio's at twice
    /// the CPU per read; no gain at depth 32. For a server with few busy
    /// connections it removes the sleep and the interrupted `epoll_wait`
    /// each request's wake-up costs: one echo connection
    /// (`benches/echo.rs`, `SHARDIO_BENCH_SPIN_US=50`, three runs) served
    /// 1.15-1.27x Tokio's requests/s at 0.86-0.97x its p99 and 1.5-1.6x its
    /// CPU per request, where without spinning it served 0.72-0.98x.
    /// Errors above 10 ms.
    ///
    /// ```
    /// # fn main() -> std::io::Result<()> {
    /// let config = shardio::Config::default()
    ///     .spin_before_park(std::time::Duration::from_micros(50))?;
    /// # let _ = config;
    /// # Ok(())
    /// # }
    /// ```
    pub fn spin_before_park(mut self, spin: Duration) -> io::Result<Self> {
        if spin > Duration::from_millis(10) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shardio: spin_before_park({spin:?}) is too long: at most 10 ms"),
            ));
        }
        self.spin_before_park = spin;
        self.set_by_code |= SPIN_BEFORE_PARK;
        Ok(self)
    }

    /// How many file reads and writes (`read_at`, `write_at`, their
    /// vectored and fixed-buffer forms, and `File`'s `AsyncRead` /
    /// `AsyncWrite`) may wait in a ring's submission queue before shardio
    /// submits them, instead of at the end of the worker's batch of tasks
    /// like socket operations. The default, 1, hands each to the kernel as
    /// soon as it is issued, as fio does: measured on this project's virtio
    /// disk (`benches/fs.rs`, 4 KiB O_DIRECT random reads at depth 32) the
    /// device served 1.2–1.5x more reads that way than when a worker's 32
    /// reissued reads reached it in one submission, at one system call per
    /// read. Larger values trade latency for fewer system calls. Errors on 0.
    ///
    /// ```
    /// assert!(shardio::Config::default().storage_submit_batch(0).is_err());
    /// assert!(shardio::Config::default().storage_submit_batch(8).is_ok());
    /// ```
    pub fn storage_submit_batch(mut self, batch: usize) -> io::Result<Self> {
        if batch == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "shardio: storage_submit_batch(0) is not a batch size: use 1 to submit every \
                 file operation at once, or more to batch them",
            ));
        }
        self.ring.storage_submit_batch = batch;
        self.set_by_code |= STORAGE_SUBMIT_BATCH;
        Ok(self)
    }

    /// Gives the scheduler a model of the devices, read from an io_properties
    /// file in Seastar's format (see [`IoProperties`]): with it, each
    /// device's operations are throttled to what it can serve within the
    /// latency goal and priority classes split its time by their shares.
    /// The settings are process-wide and take effect when the runtime is
    /// built.
    ///
    /// ```
    /// use shardio::sched::{DiskProperties, IoProperties};
    ///
    /// let props = IoProperties::new().disk(DiskProperties::new("/", 60_000.0, 1e9, 40_000.0, 5e8));
    /// let config = shardio::Config::new().io_properties(props);
    /// # drop(config);
    /// ```
    pub fn io_properties(mut self, props: IoProperties) -> Self {
        self.sched_mut().properties = Some(props);
        self.set_by_code |= IO_PROPERTIES;
        self
    }

    /// [`io_properties`](Self::io_properties) from a file; errors name the
    /// file, the line and the key of what is wrong.
    pub fn io_properties_file(self, path: impl AsRef<Path>) -> io::Result<Self> {
        Ok(self.io_properties(IoProperties::from_path(path)?))
    }

    /// [`io_properties`](Self::io_properties) from YAML text; errors name
    /// the line and the key of what is wrong.
    ///
    /// ```
    /// let err = shardio::Config::new()
    ///     .io_properties_yaml("disks:\n  - mountpoint: /\n    read_iops: lots\n")
    ///     .unwrap_err();
    /// assert!(err.to_string().contains("line 3"), "{err}");
    /// ```
    pub fn io_properties_yaml(self, yaml: &str) -> io::Result<Self> {
        Ok(self.io_properties(IoProperties::from_yaml(yaml)?))
    }

    /// The latency goal of modelled devices (0.75 ms by default): a device
    /// is given at most `goal × rate_factor` of device time ahead of what it
    /// has served, so a request dispatched now completes within about the
    /// goal. Lower is better isolation, higher is better throughput. Errors
    /// outside 50 µs ..= 1 s.
    pub fn io_latency_goal(mut self, goal: Duration) -> io::Result<Self> {
        if goal < Duration::from_micros(50) || goal > Duration::from_secs(1) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shardio: io_latency_goal({goal:?}) is out of range: use 50 µs to 1 s"),
            ));
        }
        self.sched_mut().latency_goal = goal;
        self.set_by_code |= IO_LATENCY_GOAL;
        Ok(self)
    }

    /// Requests in flight per device without a model (32 by default):
    /// classes are ordered by shares among the requests waiting for one of
    /// these slots. Errors on 0.
    pub fn io_inflight_cap(mut self, cap: usize) -> io::Result<Self> {
        if cap == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "shardio: io_inflight_cap(0) would never dispatch anything: use at least 1",
            ));
        }
        self.sched_mut().inflight_cap = cap;
        self.set_by_code |= IO_INFLIGHT_CAP;
        Ok(self)
    }

    fn sched_mut(&mut self) -> &mut SchedConfig {
        self.sched.get_or_insert(SchedConfig {
            properties: None,
            latency_goal: crate::sched::DEFAULT_LATENCY_GOAL,
            inflight_cap: crate::sched::DEFAULT_INFLIGHT_CAP,
        })
    }

    /// A hook run when a runtime thread starts, after shardio's own.
    /// Replaces `tokio::runtime::Builder::on_thread_start`, which
    /// [`BuilderExt::shardio`](crate::BuilderExt::shardio) sets.
    pub fn on_thread_start<F: Fn() + Send + Sync + 'static>(mut self, f: F) -> Self {
        self.on_thread_start = Some(Arc::new(f));
        self
    }

    /// A hook run when a runtime thread stops, before shardio releases the
    /// thread's rings.
    pub fn on_thread_stop<F: Fn() + Send + Sync + 'static>(mut self, f: F) -> Self {
        self.on_thread_stop = Some(Arc::new(f));
        self
    }

    /// A hook run when a worker is about to park, after shardio flushed and
    /// reaped the thread's ring.
    pub fn on_thread_park<F: Fn() + Send + Sync + 'static>(mut self, f: F) -> Self {
        self.on_thread_park = Some(Arc::new(f));
        self
    }

    /// A hook run when a worker unparks, after shardio reaped the thread's ring.
    pub fn on_thread_unpark<F: Fn() + Send + Sync + 'static>(mut self, f: F) -> Self {
        self.on_thread_unpark = Some(Arc::new(f));
        self
    }
}

cfg_unstable! {
    impl Config {
        /// A hook run before each task poll (Tokio's `on_before_task_poll`).
        pub fn on_before_task_poll<F>(mut self, f: F) -> Self
        where
            F: Fn(&tokio::runtime::TaskMeta<'_>) + Send + Sync + 'static,
        {
            self.on_before_task_poll = Some(Arc::new(f));
            self
        }

        /// A hook run after each task poll (Tokio's `on_after_task_poll`),
        /// after shardio flushed the submissions the poll queued.
        pub fn on_after_task_poll<F>(mut self, f: F) -> Self
        where
            F: Fn(&tokio::runtime::TaskMeta<'_>) + Send + Sync + 'static,
        {
            self.on_after_task_poll = Some(Arc::new(f));
            self
        }
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("ring_entries", &self.ring.sq_entries)
            .field("cq_entries", &self.ring.cq_entries)
            .field("force_fallback", &self.force_fallback)
            .field("async_workers", &self.async_workers)
            .field("sq_poll_idle", &self.ring.sq_poll_idle)
            .field("iowq_max_workers", &self.ring.iowq_limits())
            .field("pin_workers", &self.pin_workers)
            .field("stall_threshold", &self.stall_threshold)
            .field("spin_before_park", &self.spin_before_park)
            .field("sched", &self.sched)
            .field("on_thread_start", &self.on_thread_start.is_some())
            .field("on_thread_stop", &self.on_thread_stop.is_some())
            .field("on_thread_park", &self.on_thread_park.is_some())
            .field("on_thread_unpark", &self.on_thread_unpark.is_some())
            .finish_non_exhaustive()
    }
}

/// The scheduler settings of a [`Config`].
#[derive(Debug, Clone)]
pub(crate) struct SchedConfig {
    pub(crate) properties: Option<IoProperties>,
    pub(crate) latency_goal: Duration,
    pub(crate) inflight_cap: usize,
}

impl SchedConfig {
    /// Makes these the process-wide scheduler settings.
    pub(crate) fn install(&self) {
        crate::sched::install(
            self.properties.as_ref(),
            self.latency_goal,
            self.inflight_cap,
        );
    }
}
