//! The scheduler state a file or socket carries: its own class, if set,
//! and its devices, found on first use.

use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::{Arc, OnceLock};

use super::active::active;
use super::admit::{Admit, admit};
use super::class::{ClassInner, PriorityClass};
use super::current::resolve;
use super::device::Device;
use super::dir::Dir;
use super::registry;
use super::waiter::Hold;
use crate::sync::Mutex;

/// Per file or socket: `set_class`'s class and the (read, write) devices.
#[derive(Default)]
pub(crate) struct Target {
    class: Mutex<Option<Arc<ClassInner>>>,
    devices: OnceLock<Option<(Arc<Device>, Arc<Device>)>>,
}

impl Target {
    pub(crate) fn set_class(&self, class: &PriorityClass) {
        *self.class.lock() = Some(Arc::clone(&class.inner));
    }

    /// The class set with `set_class`, if any.
    pub(crate) fn class(&self) -> Option<PriorityClass> {
        self.own().map(|inner| PriorityClass { inner })
    }

    fn own(&self) -> Option<Arc<ClassInner>> {
        self.class.lock().clone()
    }

    /// The device for `dir`, found with `find` on first use; `None` when
    /// the scheduler is off (no class, no model) or there is no device.
    fn device(
        &self,
        dir: Dir,
        find: impl FnOnce() -> Option<(Arc<Device>, Arc<Device>)>,
    ) -> Option<&Arc<Device>> {
        if !active() {
            return None;
        }
        let (read, write) = self.devices.get_or_init(find).as_ref()?;
        Some(match dir {
            Dir::Read => read,
            Dir::Write => write,
        })
    }

    /// Queues a request of `bytes` on `dev` in the operation's class.
    fn admit_on(&self, dev: &Arc<Device>, dir: Dir, bytes: usize, hold: Hold) -> Admit {
        admit(
            Arc::clone(dev),
            resolve(self.own()),
            dir,
            bytes as u64,
            hold,
        )
    }

    /// Queues a file operation on the disk holding `fd`; `None` when the
    /// scheduler is off or the file has no device.
    pub(crate) fn admit_file(
        &self,
        fd: &impl AsRawFd,
        dir: Dir,
        bytes: usize,
        hold: Hold,
    ) -> Option<Admit> {
        let dev = self.device(dir, || registry::disk_of(fd).ok())?;
        Some(self.admit_on(dev, dir, bytes, hold))
    }

    /// The largest file request the disk's throttle takes whole, when the
    /// scheduler is on and the disk has a model; larger ones are split.
    pub(crate) fn split_len(&self, fd: &impl AsRawFd, dir: Dir) -> Option<u64> {
        self.device(dir, || registry::disk_of(fd).ok())?
            .max_bytes(dir)
    }

    /// Queues an operation of socket `fd` on the transmit (`Dir::Write`)
    /// or receive (`Dir::Read`) side of its interface (found on first
    /// use); `None` when the scheduler is off.
    pub(crate) fn admit_net(
        &self,
        fd: BorrowedFd<'_>,
        dir: Dir,
        bytes: usize,
        hold: Hold,
    ) -> Option<Admit> {
        let dev = self.device(dir, || Some(registry::net_of(fd)))?;
        Some(self.admit_on(dev, dir, bytes, hold))
    }

    /// The most bytes a send of socket `fd` should carry, when the
    /// scheduler is on and its interface has a model: what the device's
    /// bucket passes within its latency goal.
    pub(crate) fn net_send_len(&self, fd: BorrowedFd<'_>, dir: Dir) -> Option<usize> {
        let bytes = self
            .device(dir, || Some(registry::net_of(fd)))?
            .max_bytes(dir)?;
        Some(usize::try_from(bytes).unwrap_or(usize::MAX))
    }

    /// Charges a completed operation of socket `fd` after the fact (post-paid).
    pub(crate) fn charge_net(&self, fd: BorrowedFd<'_>, dir: Dir, bytes: usize) {
        if let Some(dev) = self.device(dir, || Some(registry::net_of(fd))) {
            dev.charge_after(&resolve(self.own()), dir, bytes as u64);
        }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target")
            .field("class", &self.class())
            .finish()
    }
}
