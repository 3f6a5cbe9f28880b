//! Synchronization primitives shared by every layer, and the one switch to
//! the model checker's (`--cfg shardio_loom`, see [`model`]).

use std::fmt;
use std::sync::{self, MutexGuard, RwLockReadGuard, RwLockWriteGuard};

/// A mutex whose `lock` ignores poisoning.
///
/// shardio's critical sections keep their data consistent at every step
/// (a slab slot, a queue, a waker), so a panic in another thread while it
/// held the lock leaves nothing half-written: the data stays usable, and
/// surfacing the poison would only turn one panic into many. (Tokio wraps
/// `std::sync::Mutex` the same way.)
pub(crate) struct Mutex<T: ?Sized>(sync::Mutex<T>);

impl<T> Mutex<T> {
    pub(crate) const fn new(value: T) -> Mutex<T> {
        Mutex(sync::Mutex::new(value))
    }
}

impl<T: ?Sized> Mutex<T> {
    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn get_mut(&mut self) -> &mut T {
        self.0.get_mut().unwrap_or_else(|e| e.into_inner())
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// A reader-writer lock whose guards ignore poisoning, for the same reason
/// as [`Mutex`].
pub(crate) struct RwLock<T: ?Sized>(sync::RwLock<T>);

impl<T> RwLock<T> {
    pub(crate) const fn new(value: T) -> RwLock<T> {
        RwLock(sync::RwLock::new(value))
    }
}

impl<T: ?Sized> RwLock<T> {
    pub(crate) fn read(&self) -> RwLockReadGuard<'_, T> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn write(&self) -> RwLockWriteGuard<'_, T> {
        self.0.write().unwrap_or_else(|e| e.into_inner())
    }
}

/// The atomics and lock of the code the model checker explores (the
/// hand-off between a ring and its reaper task, `driver::handshake`; the
/// slot table's life of an operation, `driver::slot`; a device's queue and
/// token bucket shared by every thread, `sched::device`, `sched::waiter`,
/// `sched::token_bucket`): std's, or loom's
/// when it runs (`RUSTFLAGS="--cfg shardio_loom" cargo test --lib loom_`),
/// so that every interleaving of the threads involved is explored.
pub(crate) mod model {
    #[cfg(shardio_loom)]
    pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    #[cfg(not(shardio_loom))]
    pub(crate) use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

    #[cfg(not(shardio_loom))]
    pub(crate) type Mutex<T> = crate::sync::Mutex<T>;

    /// loom's mutex with the same face as [`super::Mutex`].
    #[cfg(shardio_loom)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    #[cfg(shardio_loom)]
    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> loom::sync::MutexGuard<'_, T> {
            self.0.lock().unwrap_or_else(|e| e.into_inner())
        }
    }

    #[cfg(shardio_loom)]
    impl<T: Default> Default for Mutex<T> {
        fn default() -> Self {
            Mutex(loom::sync::Mutex::new(T::default()))
        }
    }
}
