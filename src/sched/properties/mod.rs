//! The io_properties file: what each disk (and the network) can do.
//!
//! This is Seastar's io_properties format (the YAML file `iotune` writes),
//! plus an optional `network` section. The scheduler turns these numbers into
//! request costs: a request of `b` bytes costs `1/iops + b/bandwidth`
//! seconds of device time.
//!
//! The file is parsed with every node's line number, so a bad file is
//! rejected with an error naming the line, the key and what was expected.

use std::path::{Path, PathBuf};

mod number;
mod parse;
#[cfg(test)]
mod tests;
mod write;

pub use number::parse_size;

/// What the disks and the network of a machine can do: the contents of an
/// io_properties file.
///
/// The file is Seastar's io_properties YAML (as written by `iotune`), with an
/// optional `network` section:
///
/// ```yaml
/// disks:
///   - mountpoint: /var/lib/data
///     read_iops: 62800
///     read_bandwidth: 1.2G
///     write_iops: 40k
///     write_bandwidth: 500M
///     rate_factor: 0.9
///   - mountpoints: [/a, /b]
///     read_iops: 1000
///     read_bandwidth: 100M
///     write_iops: 1000
///     write_bandwidth: 100M
/// network:
///   interface: eth0
///   tx_ops: 1M
///   tx_bandwidth: 1.25G
///   rx_ops: 1M
///   rx_bandwidth: 1.25G
/// ```
///
/// # Numbers
///
/// Rates are operations per second (`*_iops`, `*_ops`) and bytes per second
/// (`*_bandwidth`); saturation lengths are bytes. A number is written as a
/// YAML integer or float, or as a string with a suffix that multiplies it by
/// a power of 1024, as Seastar's parser does: `k` or `K` = 1024, `M` = 1024²,
/// `G` = 1024³, `T` = 1024⁴ (so `1.2G` is 1288490188.8 bytes per second,
/// not 1.2·10⁹; lowercase `m`, `g`, `t` are errors). [`parse_size`] reads
/// such a string. Rates must be finite and greater than 0, `rate_factor` in
/// (0, 1000], saturation lengths whole numbers of at least 1 byte.
///
/// # Keys
///
/// Each disk entry needs `mountpoint: /path` or `mountpoints: [/path, ...]`
/// (one of them, absolute paths), `read_iops`, `read_bandwidth`,
/// `write_iops` and `write_bandwidth`; it may have `read_saturation_length`,
/// `write_saturation_length`, `duplex` (default `false`) and `rate_factor`
/// (default 1). The `network` section is optional; if present it needs
/// `tx_ops`, `tx_bandwidth`, `rx_ops` and `rx_bandwidth`, and may have
/// `rate_factor` and `interface` (the figures are then for that network
/// interface only; without it, for each interface). Sockets are scheduled
/// per interface, found from their local address (loopback addresses:
/// `lo`); Unix sockets are a device of their own. Unknown keys are errors, and so is a file that describes
/// no device at all.
///
/// # Errors
///
/// Every parse error is an [`io::Error`](std::io::Error) of kind
/// [`InvalidData`](std::io::ErrorKind::InvalidData) whose message names the
/// (1-based) line and the key, and says what was expected, e.g.
/// ``io_properties line 5: key `read_bandwidth`: "12X" is not a number
/// (expected e.g. 1200000, 1.2G or 500M)``.
///
/// # Example
///
/// ```
/// use shardio::sched::IoProperties;
/// use std::path::Path;
///
/// let props = IoProperties::from_yaml(
///     "disks:
///   - mountpoint: /var/lib/data
///     read_iops: 62800
///     read_bandwidth: 1.2G
///     write_iops: 40k
///     write_bandwidth: 500M
/// ",
/// )?;
/// let disk = props
///     .disk_for(Path::new("/var/lib/data/table/1.db"))
///     .expect("the file is on /var/lib/data");
/// assert_eq!(disk.read_iops, 62800.0);
/// assert_eq!(disk.write_iops, 40.0 * 1024.0);
/// assert_eq!(disk.write_bandwidth, 500.0 * 1024.0 * 1024.0);
/// assert_eq!(disk.rate_factor, 1.0);
/// assert!(props.network.is_none());
///
/// // Writing the properties out and reading them back gives the same values.
/// assert_eq!(IoProperties::from_yaml(&props.to_yaml())?, props);
///
/// // A bad file is rejected with the line and the key.
/// let err = IoProperties::from_yaml("disks:\n  - mountpoint: /x\n    read_iops: lots\n")
///     .unwrap_err();
/// assert!(err.to_string().starts_with("io_properties line 3: key `read_iops`"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct IoProperties {
    /// The disks, in file order.
    pub disks: Vec<DiskProperties>,
    /// The network, if the file has a `network` section.
    pub network: Option<NetProperties>,
}

/// What one disk can do: one entry of the `disks` list of an io_properties
/// file (see [`IoProperties`] for the format).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct DiskProperties {
    /// The mount points the disk serves (absolute paths), from
    /// `mountpoint: /x` or `mountpoints: [/x, /y]`.
    pub mountpoints: Vec<PathBuf>,
    /// Read operations per second.
    pub read_iops: f64,
    /// Read bytes per second.
    pub read_bandwidth: f64,
    /// Write operations per second.
    pub write_iops: f64,
    /// Write bytes per second.
    pub write_bandwidth: f64,
    /// The read request size, in bytes, past which the disk's read
    /// throughput stops growing, if known.
    pub read_saturation_length: Option<u64>,
    /// The write request size, in bytes, past which the disk's write
    /// throughput stops growing, if known.
    pub write_saturation_length: Option<u64>,
    /// Whether reads and writes proceed independently (a full-duplex
    /// device); `false` if the file does not say.
    pub duplex: bool,
    /// The share of the measured rates to actually use (Seastar's K);
    /// 1 if the file does not say.
    pub rate_factor: f64,
}

/// What the network can do: the `network` section of an io_properties file
/// (see [`IoProperties`] for the format).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct NetProperties {
    /// The interface the figures are for (its name, as `ip link` shows
    /// it); `None`: every interface. Each interface is its own device
    /// (one queue and token bucket per direction) either way.
    pub interface: Option<String>,
    /// Transmit operations per second.
    pub tx_ops: f64,
    /// Transmit bytes per second.
    pub tx_bandwidth: f64,
    /// Receive operations per second.
    pub rx_ops: f64,
    /// Receive bytes per second.
    pub rx_bandwidth: f64,
    /// The share of the rates to actually use; 1 if the file does not say.
    pub rate_factor: f64,
}

impl DiskProperties {
    /// A disk serving `mountpoint`, with the given rates (operations and
    /// bytes per second), rate factor 1, not duplex and no saturation
    /// lengths.
    ///
    /// The values are not checked here; [`IoProperties::from_yaml`] checks
    /// the ones it reads. Set the other fields on the result:
    ///
    /// ```
    /// use shardio::sched::DiskProperties;
    ///
    /// let mut disk = DiskProperties::new("/var/lib/data", 62800.0, 1.2e9, 40000.0, 5e8);
    /// disk.mountpoints.push("/var/log".into());
    /// disk.rate_factor = 0.9;
    /// disk.duplex = true;
    /// ```
    pub fn new(
        mountpoint: impl Into<PathBuf>,
        read_iops: f64,
        read_bandwidth: f64,
        write_iops: f64,
        write_bandwidth: f64,
    ) -> DiskProperties {
        DiskProperties {
            mountpoints: vec![mountpoint.into()],
            read_iops,
            read_bandwidth,
            write_iops,
            write_bandwidth,
            read_saturation_length: None,
            write_saturation_length: None,
            duplex: false,
            rate_factor: 1.0,
        }
    }
}

impl NetProperties {
    /// A network with the given rates (operations and bytes per second),
    /// rate factor 1, for every interface.
    ///
    /// The values are not checked here; [`IoProperties::from_yaml`] checks
    /// the ones it reads. Set `rate_factor` on the result to change it.
    pub fn new(tx_ops: f64, tx_bandwidth: f64, rx_ops: f64, rx_bandwidth: f64) -> NetProperties {
        NetProperties {
            interface: None,
            tx_ops,
            tx_bandwidth,
            rx_ops,
            rx_bandwidth,
            rate_factor: 1.0,
        }
    }
}

impl IoProperties {
    /// No disks and no network; add them with [`disk`](Self::disk) and
    /// [`network`](Self::network).
    pub fn new() -> IoProperties {
        IoProperties::default()
    }

    /// Adds a disk (builder style).
    #[must_use]
    pub fn disk(mut self, disk: DiskProperties) -> IoProperties {
        self.disks.push(disk);
        self
    }

    /// Sets the network (builder style), replacing any previous one.
    #[must_use]
    pub fn network(mut self, network: NetProperties) -> IoProperties {
        self.network = Some(network);
        self
    }

    /// The disk serving `path`: the one with the longest mount point that is
    /// a prefix of `path`, compared by whole path components (so `/ab/x` is
    /// not under `/a`).
    ///
    /// The comparison is lexical: `path` should be absolute and canonical
    /// (no symlinks or `..` to resolve), as [`std::fs::canonicalize`]
    /// returns it. `None` if no mount point is a prefix.
    pub fn disk_for(&self, path: &Path) -> Option<&DiskProperties> {
        let mut best: Option<(usize, &DiskProperties)> = None;
        for disk in &self.disks {
            for mountpoint in &disk.mountpoints {
                if !path.starts_with(mountpoint) {
                    continue;
                }
                let depth = mountpoint.components().count();
                if best.is_none_or(|(best_depth, _)| depth > best_depth) {
                    best = Some((depth, disk));
                }
            }
        }
        best.map(|(_, disk)| disk)
    }
}
