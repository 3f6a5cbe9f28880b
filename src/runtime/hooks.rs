//! The bodies of the hooks shardio installs on a Tokio runtime.
//!
//! [`BuilderExt::shardio`](crate::BuilderExt::shardio) wires these for you.
//! Use [`Hooks`] directly only if you set Tokio's hooks yourself, for example
//! because another library also needs them; every hook is optional for
//! correctness (rings are created lazily and a reaper task drains them), the
//! hooks add speed: flushing submissions and reaping completions before a
//! worker sleeps and after it wakes.
//!
//! ```
//! # fn main() -> std::io::Result<()> {
//! let hooks = shardio::hooks::Hooks::new(shardio::Config::default());
//! let (start, stop, park, unpark) = (hooks.clone(), hooks.clone(), hooks.clone(), hooks);
//! let rt = tokio::runtime::Builder::new_multi_thread()
//!     .enable_all()
//!     .on_thread_start(move || start.thread_start())
//!     .on_thread_stop(move || stop.thread_stop())
//!     .on_thread_park(move || park.thread_park())
//!     .on_thread_unpark(move || unpark.thread_unpark())
//!     .build()?;
//! rt.block_on(shardio::nop())?;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::sync::Arc;

use super::config::Config;
use crate::driver::{self, RuntimeRings};

/// What one configured runtime's hooks share.
struct Shared {
    config: Config,
    /// The driver's settings for this runtime's rings.
    rings: Arc<RuntimeRings>,
    /// Present when the config sets a stall threshold.
    #[cfg(tokio_unstable)]
    stall: Option<Arc<crate::stall::StallDetector>>,
}

/// The hook bodies for one runtime, bound to its [`Config`].
///
/// Create it on the thread that builds the runtime (shardio uses that to
/// apply the configuration to the `block_on` thread before any hook ran).
/// Each method also calls the matching user hook from the `Config`.
#[derive(Clone)]
pub struct Hooks {
    shared: Arc<Shared>,
}

impl Hooks {
    /// Hook bodies applying `config`.
    pub fn new(config: Config) -> Hooks {
        if let (Some(workers), Some(app)) = (&config.async_workers, &config.pin_workers) {
            let overlap = workers.intersection(app);
            if !overlap.is_empty() {
                tracing::warn!(
                    target: "shardio::runtime",
                    ?overlap,
                    "async_workers({workers}) and pin_workers({app}) overlap: Tokio workers and \
                     the kernel's I/O threads will compete for these cores"
                );
            }
        }
        if let Some(sched) = &config.sched {
            sched.install();
        }
        let rings = RuntimeRings::attach(
            config.ring.clone(),
            config.force_fallback,
            config.async_workers.clone(),
        );
        #[cfg(tokio_unstable)]
        let stall = config
            .stall_threshold
            .map(|t| crate::stall::StallDetector::new(t, config.stall_reports_per_minute));
        Hooks {
            shared: Arc::new(Shared {
                config,
                rings,
                #[cfg(tokio_unstable)]
                stall,
            }),
        }
    }

    fn config(&self) -> &Config {
        &self.shared.config
    }

    /// Body for `on_thread_start`: binds the configuration to the runtime
    /// and pins the thread if [`Config::pin_workers`] says so.
    pub fn thread_start(&self) {
        self.shared.rings.bind_current();
        if let Some(cpus) = &self.config().pin_workers {
            if let Err(e) = cpus.pin_current_thread() {
                tracing::warn!(
                    target: "shardio::runtime",
                    error = %e,
                    "could not pin a runtime thread to pin_workers({cpus})"
                );
            }
        }
        if let Some(f) = &self.config().on_thread_start {
            f();
        }
    }

    /// Body for `on_thread_stop`: releases this thread's rings (each ends
    /// once its operations in flight complete).
    pub fn thread_stop(&self) {
        if let Some(f) = &self.config().on_thread_stop {
            f();
        }
        driver::release_thread();
    }

    /// Body for `on_thread_park`: submits queued operations before the
    /// worker sleeps. (It does not wake tasks: Tokio runs this hook while the
    /// worker's run queue is detached, so tasks woken here would wait in the
    /// global queue; the ring's reaper task delivers completions instead.)
    pub fn thread_park(&self) {
        self.shared.rings.bind_current();
        driver::flush_thread(self.config().spin_before_park);
        if let Some(f) = &self.config().on_thread_park {
            f();
        }
    }

    /// Body for `on_thread_unpark`: runs the user's hook. Completions that
    /// arrived while the worker slept are delivered by the ring's reaper
    /// task, which Tokio's reactor wakes; waking tasks from this hook would
    /// put them in the global queue (see [`thread_park`](Hooks::thread_park)).
    pub fn thread_unpark(&self) {
        if let Some(f) = &self.config().on_thread_unpark {
            f();
        }
    }
}

cfg_unstable! {
    impl Hooks {
        /// Body for `on_before_task_poll`: from here until the after-poll
        /// hook, submissions are batched instead of entering the kernel one
        /// by one.
        pub fn before_task_poll(&self, meta: &tokio::runtime::TaskMeta<'_>) {
            driver::enter_task_poll();
            if let Some(stall) = &self.shared.stall {
                crate::stall::enter_poll(stall, meta);
            }
            if let Some(f) = &self.config().on_before_task_poll {
                f(meta);
            }
        }

        /// Body for `on_after_task_poll`: submits what the task poll queued.
        pub fn after_task_poll(&self, meta: &tokio::runtime::TaskMeta<'_>) {
            if let Some(stall) = &self.shared.stall {
                crate::stall::exit_poll(stall);
            }
            driver::exit_task_poll();
            if let Some(f) = &self.config().on_after_task_poll {
                f(meta);
            }
        }
    }
}

impl fmt::Debug for Hooks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hooks")
            .field("config", self.config())
            .finish()
    }
}
