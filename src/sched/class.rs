//! Priority classes: the handle users hold and the per-class counters.

use std::fmt;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, Weak};

use super::active::activate;
use super::clock::now_ns;
use super::histogram::{AtomicHistogram, Histogram};
use super::token_bucket::TokenBucket;
use crate::sync::Mutex;

/// The shares of the class that runs unnamed work.
pub const DEFAULT_SHARES: u32 = 1000;

/// A priority class: a name, a number of shares, and the counters of what
/// its operations cost.
///
/// Every file and socket operation runs in a class. When a device is
/// contended, each class gets device time in proportion to its shares
/// (Seastar's fair queue): a class with 400 shares gets four times the
/// device time of a class with 100 while both have work queued, and a class
/// with nothing queued leaves its time to the others. Work that names no
/// class runs in [`PriorityClass::default_class`] (1000 shares).
///
/// The handle is cheap to clone; clones are the same class.
///
/// ```no_run
/// use shardio::sched::PriorityClass;
///
/// # async fn demo() -> std::io::Result<()> {
/// let interactive = PriorityClass::new("interactive", 1000);
/// let compaction = PriorityClass::new("compaction", 100);
///
/// let file = shardio::fs::File::open("/tmp/data").await?;
/// // Everything this future issues runs in `interactive`.
/// let (res, _buf) = interactive.scope(file.read_at(vec![0; 4096], 0)).await;
/// res?;
/// // A spawned task in `compaction`.
/// let task = compaction.spawn(async { /* bulk reads and writes */ });
/// task.await.unwrap();
/// println!("{:?}", interactive.stats());
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct PriorityClass {
    pub(crate) inner: Arc<ClassInner>,
}

pub(crate) struct ClassInner {
    pub(crate) id: u64,
    pub(crate) name: String,
    shares: AtomicU32,
    /// The class's bandwidth cap, in bytes per ns, if any.
    cap: Mutex<Option<Arc<TokenBucket>>>,
    limit: Mutex<Option<u64>>,
    pub(crate) counters: Counters,
}

/// Counters of one class; see [`ClassStats`] for their meaning.
#[derive(Default)]
pub(crate) struct Counters {
    pub(crate) ops: AtomicU64,
    pub(crate) bytes: AtomicU64,
    pub(crate) consumption_ns: AtomicU64,
    pub(crate) queue_delay_ns: AtomicU64,
    pub(crate) in_device_ns: AtomicU64,
    pub(crate) starvation_ns: AtomicU64,
    pub(crate) activations: AtomicU64,
    pub(crate) queue_delays: AtomicHistogram,
    pub(crate) device_times: AtomicHistogram,
    pub(crate) latencies: AtomicHistogram,
}

/// What a class's operations have cost so far (see [`PriorityClass::stats`]).
///
/// Counters only grow; read them before and after a piece of work to see
/// what the work cost.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct ClassStats {
    /// The class's name.
    pub name: String,
    /// Its shares now.
    pub shares: u32,
    /// Operations dispatched to a device.
    pub ops: u64,
    /// Bytes those operations asked to move (receives: bytes received).
    pub bytes: u64,
    /// Device time charged, in seconds: the sum of each operation's cost
    /// `1/IOPS + bytes/bandwidth` from the io_properties model (without a
    /// model, a nominal 10 µs per operation plus 1 ns per byte).
    pub consumption: f64,
    /// `consumption / shares`: equal across classes that all had work
    /// queued the whole time, when the scheduler is doing its job.
    pub consumption_per_share: f64,
    /// Time operations waited in the class's queue before dispatch, summed.
    pub queue_delay: std::time::Duration,
    /// Time from dispatch to completion, summed.
    pub in_device: std::time::Duration,
    /// Time the class had work queued and none in the device, summed over
    /// devices: how long it waited while the device served others (or the
    /// throttle held it).
    pub starvation: std::time::Duration,
    /// Times the class went from nothing queued to something queued on a
    /// device.
    pub activations: u64,
    /// Each operation's wait from issue (including a bandwidth cap's) to
    /// dispatch.
    pub queue_delay_histogram: Histogram,
    /// Each operation's time from dispatch to completion, for operations
    /// awaited to completion (file I/O, owned-buffer sends); socket reads
    /// and writes leave the device when they are dispatched.
    pub device_time_histogram: Histogram,
    /// Each operation's time from issue to completion (to dispatch for
    /// socket reads and writes): queue delay plus device time.
    pub latency_histogram: Histogram,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);
static ALL: Mutex<Vec<Weak<ClassInner>>> = Mutex::new(Vec::new());
static DEFAULT: LazyLock<PriorityClass> =
    LazyLock::new(|| PriorityClass::create("default", DEFAULT_SHARES, 0));

impl PriorityClass {
    /// A new class with `shares` (at least 1: 0 is taken as 1).
    ///
    /// Creating a class turns the scheduler on for the whole process: from
    /// then on operations go through the per-device fair queues. Before any
    /// class exists (and without an io_properties model), operations skip
    /// the scheduler entirely and cost nothing extra.
    pub fn new(name: impl Into<String>, shares: u32) -> PriorityClass {
        let class = PriorityClass::create(name, shares, NEXT_ID.fetch_add(1, Relaxed));
        activate();
        class
    }

    fn create(name: impl Into<String>, shares: u32, id: u64) -> PriorityClass {
        let inner = Arc::new(ClassInner {
            id,
            name: name.into(),
            shares: AtomicU32::new(shares.max(1)),
            cap: Mutex::new(None),
            limit: Mutex::new(None),
            counters: Counters::default(),
        });
        let mut all = ALL.lock();
        all.retain(|w| w.strong_count() > 0);
        all.push(Arc::downgrade(&inner));
        PriorityClass { inner }
    }

    /// The class that runs work naming no class (1000 shares).
    pub fn default_class() -> PriorityClass {
        DEFAULT.clone()
    }

    /// The class's name.
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// The class's shares now.
    pub fn shares(&self) -> u32 {
        self.inner.shares()
    }

    /// Changes the class's shares (0 is taken as 1). It takes effect at the
    /// next dispatch on every device, including for requests already queued.
    pub fn set_shares(&self, shares: u32) {
        self.inner.shares.store(shares.max(1), Relaxed);
    }

    /// Caps the bytes per second the class's operations may move, over all
    /// devices (`None` lifts the cap): an operation waits before it joins
    /// its device's queue until the cap lets its bytes through. Bursts of
    /// up to 10 ms of the rate (at least 64 KiB) pass at once.
    ///
    /// ```
    /// let backup = shardio::sched::PriorityClass::new("backup", 100);
    /// backup.set_bandwidth_limit(Some(50 << 20)); // 50 MiB/s
    /// assert_eq!(backup.bandwidth_limit(), Some(50 << 20));
    /// ```
    pub fn set_bandwidth_limit(&self, bytes_per_sec: Option<u64>) {
        let bucket = bytes_per_sec.filter(|&b| b > 0).map(|b| {
            let burst = (b / 100).max(64 * 1024);
            Arc::new(TokenBucket::new(b as f64 / 1e9, burst, now_ns()))
        });
        *self.inner.cap.lock() = bucket;
        let mut limit = self.inner.limit.lock();
        *limit = bytes_per_sec.filter(|&b| b > 0);
    }

    /// The cap set with [`set_bandwidth_limit`](Self::set_bandwidth_limit).
    pub fn bandwidth_limit(&self) -> Option<u64> {
        *self.inner.limit.lock()
    }

    /// What the class's operations have cost so far.
    pub fn stats(&self) -> ClassStats {
        self.inner.stats()
    }
}

impl ClassInner {
    /// The bucket of the class's bandwidth cap, if it has one.
    pub(crate) fn cap(&self) -> Option<Arc<TokenBucket>> {
        self.cap.lock().clone()
    }

    pub(crate) fn shares(&self) -> u32 {
        self.shares.load(Relaxed)
    }

    pub(crate) fn stats(&self) -> ClassStats {
        let c = &self.counters;
        let shares = self.shares();
        let consumption = c.consumption_ns.load(Relaxed) as f64 / 1e9;
        let d = |a: &AtomicU64| std::time::Duration::from_nanos(a.load(Relaxed));
        ClassStats {
            name: self.name.clone(),
            shares,
            ops: c.ops.load(Relaxed),
            bytes: c.bytes.load(Relaxed),
            consumption,
            consumption_per_share: consumption / f64::from(shares),
            queue_delay: d(&c.queue_delay_ns),
            in_device: d(&c.in_device_ns),
            starvation: d(&c.starvation_ns),
            activations: c.activations.load(Relaxed),
            queue_delay_histogram: c.queue_delays.snapshot(),
            device_time_histogram: c.device_times.snapshot(),
            latency_histogram: c.latencies.snapshot(),
        }
    }
}

/// Every class alive, the default class first.
pub(crate) fn all_stats() -> Vec<ClassStats> {
    let all = ALL.lock();
    let mut classes: Vec<Arc<ClassInner>> = all.iter().filter_map(Weak::upgrade).collect();
    drop(all);
    classes.sort_by_key(|c| c.id);
    classes.iter().map(|c| c.stats()).collect()
}

impl PartialEq for PriorityClass {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }
}

impl Eq for PriorityClass {}

impl fmt::Debug for PriorityClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PriorityClass")
            .field("name", &self.inner.name)
            .field("shares", &self.shares())
            .finish()
    }
}
