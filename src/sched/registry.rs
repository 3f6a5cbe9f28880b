//! Which device an operation goes to, and the model each device uses.

use std::collections::HashMap;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::Arc;
use std::time::Duration;

use super::active::activate;
use super::cost::CostModel;
use super::device::Device;
use super::dir::Dir;
use super::iface;
use super::properties::{DiskProperties, IoProperties, NetProperties};
use crate::sync::{Mutex, RwLock};

/// The latency goal when none is configured (Seastar's 0.75 ms).
pub(crate) const DEFAULT_LATENCY_GOAL: Duration = Duration::from_micros(750);
/// Requests in flight per device without a model.
pub(crate) const DEFAULT_INFLIGHT_CAP: usize = 32;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    /// A disk by `st_dev`; a duplex disk has one device per direction.
    Disk(u64, Option<Dir>),
    /// A network interface by name (or `iface::UNIX`, `iface::ANY`), one
    /// device per direction.
    Net(String, Dir),
}

struct Model {
    disks: HashMap<u64, DiskProperties>,
    net: Option<NetProperties>,
    latency_goal_ns: u64,
    cap: usize,
}

static MODEL: RwLock<Option<Model>> = RwLock::new(None);
static DEVICES: Mutex<Option<HashMap<Key, Arc<Device>>>> = Mutex::new(None);

/// Installs the scheduler settings of a runtime's `Config`. Mountpoints are
/// matched to files by device number (`st_dev`); a mountpoint that cannot
/// be examined is reported and left out.
pub(crate) fn install(props: Option<&IoProperties>, latency_goal: Duration, cap: usize) {
    let mut disks = HashMap::new();
    if let Some(props) = props {
        for disk in &props.disks {
            for mp in &disk.mountpoints {
                match std::fs::metadata(mp) {
                    Ok(meta) => {
                        use std::os::unix::fs::MetadataExt;
                        disks.insert(meta.dev(), disk.clone());
                    }
                    Err(e) => tracing::warn!(
                        "shardio: io_properties mountpoint {} cannot be examined ({e}); files there are scheduled without its figures. Fix the path in the io_properties file.",
                        mp.display()
                    ),
                }
            }
        }
        activate();
    }
    let model = Model {
        disks,
        net: props.and_then(|p| p.network.clone()),
        latency_goal_ns: latency_goal.as_nanos().max(1) as u64,
        cap,
    };
    *MODEL.write() = Some(model);
    // Devices made under the previous settings keep serving the files and
    // sockets that hold them; new lookups get the new settings.
    *DEVICES.lock() = None;
}

fn device(key: Key) -> Arc<Device> {
    let mut devices = DEVICES.lock();
    let devices = devices.get_or_insert_with(HashMap::new);
    if let Some(d) = devices.get(&key) {
        return Arc::clone(d);
    }
    let model = MODEL.read();
    let (goal, cap) = model.as_ref().map_or(
        (DEFAULT_LATENCY_GOAL.as_nanos() as u64, DEFAULT_INFLIGHT_CAP),
        |m| (m.latency_goal_ns, m.cap),
    );
    let (name, cost) = match &key {
        &Key::Disk(dev, dir) => {
            let name = match dir {
                None => format!("disk {}:{}", libc::major(dev), libc::minor(dev)),
                Some(d) => format!("disk {}:{} {d:?}", libc::major(dev), libc::minor(dev)),
            };
            let props = model.as_ref().and_then(|m| m.disks.get(&dev));
            (
                name,
                props.map_or_else(CostModel::nominal, |p| CostModel::disk(p, goal)),
            )
        }
        Key::Net(iface, dir) => {
            let name = match dir {
                Dir::Read => format!("net {iface} rx"),
                Dir::Write => format!("net {iface} tx"),
            };
            let props = model
                .as_ref()
                .and_then(|m| m.net.as_ref())
                .filter(|p| p.interface.as_ref().is_none_or(|only| only == iface));
            (
                name,
                props.map_or_else(CostModel::nominal, |p| CostModel::net(p, goal)),
            )
        }
    };
    let d = Device::new(name, cost, cap);
    devices.insert(key.clone(), Arc::clone(&d));
    d
}

/// The devices (read, write) of the disk holding `fd`'s file.
pub(crate) fn disk_of(fd: &impl AsRawFd) -> io::Result<(Arc<Device>, Arc<Device>)> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `st` is a valid out-pointer for one `stat`; fstat writes it
    // fully on success, and we read it only then.
    let rc = unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: fstat returned 0, so it initialized `st`.
    let dev = unsafe { st.assume_init() }.st_dev;
    let duplex = MODEL
        .read()
        .as_ref()
        .and_then(|m| m.disks.get(&dev))
        .is_some_and(|p| p.duplex);
    Ok(if duplex {
        (
            device(Key::Disk(dev, Some(Dir::Read))),
            device(Key::Disk(dev, Some(Dir::Write))),
        )
    } else {
        let d = device(Key::Disk(dev, None));
        (Arc::clone(&d), d)
    })
}

/// The receive and transmit devices of the interface socket `fd` uses.
pub(crate) fn net_of(fd: BorrowedFd<'_>) -> (Arc<Device>, Arc<Device>) {
    let iface = iface::of(fd);
    (
        device(Key::Net(iface.clone(), Dir::Read)),
        device(Key::Net(iface, Dir::Write)),
    )
}

/// The state of every device in use under the current settings.
pub(crate) fn all_devices() -> Vec<super::device::DeviceStats> {
    let devices: Vec<Arc<Device>> = DEVICES
        .lock()
        .as_ref()
        .map(|d| d.values().cloned().collect())
        .unwrap_or_default();
    let mut stats: Vec<_> = devices.iter().map(|d| d.stats()).collect();
    stats.sort_by(|a, b| a.name.cmp(&b.name));
    stats
}
