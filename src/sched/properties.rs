//! The io_properties file: what each disk (and the network) can do.
//!
//! This is Seastar's io_properties format (the YAML file `iotune` writes),
//! plus an optional `network` section. The scheduler turns these numbers into
//! request costs: a request of `b` bytes costs `1/iops + b/bandwidth`
//! seconds of device time.
//!
//! The file is parsed with every node's line number, so a bad file is
//! rejected with an error naming the line, the key and what was expected.

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, ScanError, YamlData};

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
/// not 1.2·10⁹). Rates must be finite and greater than 0, `rate_factor` in
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
/// `rate_factor`. Unknown keys are errors, and so is a file that describes
/// no device at all.
///
/// # Errors
///
/// Every parse error is an [`io::Error`] of kind
/// [`InvalidData`](io::ErrorKind::InvalidData) whose message names the
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
pub struct IoProperties {
    /// The disks, in file order.
    pub disks: Vec<DiskProperties>,
    /// The network, if the file has a `network` section.
    pub network: Option<NetProperties>,
}

/// What one disk can do: one entry of the `disks` list of an io_properties
/// file (see [`IoProperties`] for the format).
#[derive(Debug, Clone, PartialEq)]
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
pub struct NetProperties {
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
    /// the ones it reads.
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
    /// A network with the given rates (operations and bytes per second) and
    /// rate factor 1.
    ///
    /// The values are not checked here; [`IoProperties::from_yaml`] checks
    /// the ones it reads.
    pub fn new(tx_ops: f64, tx_bandwidth: f64, rx_ops: f64, rx_bandwidth: f64) -> NetProperties {
        NetProperties {
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

    /// Parses the text of an io_properties file (see the [type
    /// docs](IoProperties) for the format).
    ///
    /// # Errors
    ///
    /// An error of kind [`InvalidData`](io::ErrorKind::InvalidData) naming
    /// the line, the key and what was expected, if the text is not valid
    /// YAML, not in the format, or describes no device.
    pub fn from_yaml(text: &str) -> io::Result<IoProperties> {
        let docs = MarkedYaml::load_from_str(text).map_err(syntax_error)?;
        let mut docs = docs.iter();
        let Some(doc) = docs.next() else {
            return Err(invalid(
                1,
                "the file is empty (expected a `disks:` list and/or a `network:` section)",
            ));
        };
        if let Some(extra) = docs.next() {
            return Err(invalid(
                line_of(extra),
                "a second YAML document (expected a single document)",
            ));
        }
        parse_top(doc)
    }

    /// Reads and parses the io_properties file at `path`.
    ///
    /// # Errors
    ///
    /// The error of reading the file, or of [`from_yaml`](Self::from_yaml),
    /// with the same kind and a message that starts with the path.
    pub fn from_path(path: impl AsRef<Path>) -> io::Result<IoProperties> {
        let path = path.as_ref();
        let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
        let text = std::fs::read_to_string(path).map_err(with_path)?;
        IoProperties::from_yaml(&text).map_err(with_path)
    }

    /// The properties as io_properties YAML, which
    /// [`from_yaml`](Self::from_yaml) reads back to equal properties.
    ///
    /// Optional keys are written only when they differ from their default.
    /// Properties that `from_yaml` would reject (no device, a disk without
    /// mount points, a rate that is not positive, ...) are written as they
    /// are, and so are rejected when read back; a mount point that is not
    /// valid UTF-8 is written lossily.
    pub fn to_yaml(&self) -> String {
        let mut out = String::new();
        if self.disks.is_empty() {
            if self.network.is_none() {
                out.push_str("disks: []\n");
            }
        } else {
            out.push_str("disks:\n");
            for disk in &self.disks {
                write_disk(&mut out, disk);
            }
        }
        if let Some(net) = &self.network {
            out.push_str("network:\n");
            let ind = "  ";
            line(&mut out, ind, "tx_ops", Num(net.tx_ops));
            line(&mut out, ind, "tx_bandwidth", Num(net.tx_bandwidth));
            line(&mut out, ind, "rx_ops", Num(net.rx_ops));
            line(&mut out, ind, "rx_bandwidth", Num(net.rx_bandwidth));
            if net.rate_factor != 1.0 {
                line(&mut out, ind, "rate_factor", Num(net.rate_factor));
            }
        }
        out
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

// ---------------------------------------------------------------------------
// Parsing.

const TOP_KEYS: &[&str] = &["disks", "network"];
const DISK_KEYS: &[&str] = &[
    "mountpoint",
    "mountpoints",
    "read_iops",
    "read_bandwidth",
    "write_iops",
    "write_bandwidth",
    "read_saturation_length",
    "write_saturation_length",
    "duplex",
    "rate_factor",
];
const NET_KEYS: &[&str] = &[
    "tx_ops",
    "tx_bandwidth",
    "rx_ops",
    "rx_bandwidth",
    "rate_factor",
];

const OPS_HINT: &str = "(expected e.g. 62800, 40k or 1M)";
const BANDWIDTH_HINT: &str = "(expected e.g. 1200000, 1.2G or 500M)";
const RATE_FACTOR_HINT: &str = "(expected a number in (0, 1000], e.g. 0.9)";
const LENGTH_HINT: &str = "(expected a whole number of bytes, at least 1, e.g. 131072 or 128k)";

/// Largest `rate_factor` accepted.
const MAX_RATE_FACTOR: f64 = 1e3;

fn invalid(line: usize, msg: impl fmt::Display) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("io_properties line {line}: {msg}"),
    )
}

fn syntax_error(e: ScanError) -> io::Error {
    let mark = e.marker();
    invalid(
        mark.line().max(1),
        format_args!(
            "YAML syntax error at column {}: {} (expected a YAML mapping with a `disks:` list and/or a `network:` section)",
            mark.col() + 1,
            e.info()
        ),
    )
}

/// The 1-based line a node starts on.
fn line_of(node: &MarkedYaml<'_>) -> usize {
    node.span.start.line().max(1)
}

/// A node's data, looking through tags (`!foo 3` is read as `3`).
fn data_of<'n, 'i>(node: &'n MarkedYaml<'i>) -> &'n YamlData<'i, MarkedYaml<'i>> {
    let mut data = &node.data;
    // Bounded by the parser's nesting limit.
    while let YamlData::Tagged(_, inner) = data {
        data = &inner.data;
    }
    data
}

/// A node as shown in an error message.
fn describe(node: &MarkedYaml<'_>) -> String {
    match data_of(node) {
        YamlData::Value(scalar) => describe_scalar(scalar),
        YamlData::Representation(text, _, _) => format!("{:?}", text.as_ref()),
        YamlData::Sequence(_) => "a list".to_owned(),
        YamlData::Mapping(_) => "a mapping".to_owned(),
        YamlData::Alias(_) => "an alias".to_owned(),
        YamlData::BadValue | YamlData::Tagged(..) => "an invalid value".to_owned(),
    }
}

fn describe_scalar(scalar: &Scalar<'_>) -> String {
    match scalar {
        Scalar::Null => "an empty value".to_owned(),
        Scalar::Boolean(b) => b.to_string(),
        Scalar::Integer(i) => i.to_string(),
        Scalar::FloatingPoint(f) => f.into_inner().to_string(),
        Scalar::String(s) => format!("{:?}", s.as_ref()),
    }
}

/// A mapping key as a name (`None` if it is not a string).
fn key_name<'n>(key: &'n MarkedYaml<'_>) -> Option<&'n str> {
    match data_of(key) {
        YamlData::Value(Scalar::String(s)) => Some(s.as_ref()),
        YamlData::Representation(s, _, _) => Some(s.as_ref()),
        _ => None,
    }
}

fn expected_keys(allowed: &[&str]) -> String {
    let mut out = String::new();
    for (i, key) in allowed.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = write!(out, "`{key}`");
    }
    out
}

/// The checked entries of one mapping: every key is one of the allowed
/// ones (the parser has already rejected duplicates).
struct Fields<'n, 'i> {
    /// The line the mapping starts on.
    line: usize,
    /// What the mapping is, for messages ("disk entry").
    what: &'static str,
    entries: Vec<(&'static str, &'n MarkedYaml<'i>)>,
}

impl<'n, 'i> Fields<'n, 'i> {
    fn new(
        node: &'n MarkedYaml<'i>,
        what: &'static str,
        allowed: &'static [&'static str],
    ) -> io::Result<Fields<'n, 'i>> {
        let line = line_of(node);
        let YamlData::Mapping(map) = data_of(node) else {
            return Err(invalid(
                line,
                format_args!(
                    "{what} is {}, expected a mapping with keys among {}",
                    describe(node),
                    expected_keys(allowed)
                ),
            ));
        };
        let mut entries = Vec::with_capacity(map.len());
        for (key, value) in map {
            let known = key_name(key).and_then(|name| allowed.iter().find(|k| **k == name));
            let Some(known) = known else {
                let shown = match key_name(key) {
                    Some(name) => format!("`{name}`"),
                    None => describe(key),
                };
                return Err(invalid(
                    line_of(key),
                    format_args!(
                        "unknown key {shown} in {what} (expected one of {})",
                        expected_keys(allowed)
                    ),
                ));
            };
            entries.push((*known, value));
        }
        Ok(Fields {
            line,
            what,
            entries,
        })
    }

    fn get(&self, key: &str) -> Option<&'n MarkedYaml<'i>> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, value)| *value)
    }

    fn require(&self, key: &str, needs: &str) -> io::Result<&'n MarkedYaml<'i>> {
        self.get(key).ok_or_else(|| {
            invalid(
                self.line,
                format_args!("{} is missing `{key}` ({needs})", self.what),
            )
        })
    }
}

fn value_error(node: &MarkedYaml<'_>, key: &str, problem: &str, hint: &str) -> io::Error {
    invalid(
        line_of(node),
        format_args!("key `{key}`: {} {problem} {hint}", describe(node)),
    )
}

/// Binary multiplier of a suffix: `k`/`K`, `M`, `G`, `T`.
fn split_suffix(text: &str) -> (&str, u64) {
    let text = text.trim();
    let mult = match text.as_bytes().last() {
        Some(b'k' | b'K') => 1 << 10,
        Some(b'M') => 1 << 20,
        Some(b'G') => 1 << 30,
        Some(b'T') => 1 << 40,
        _ => return (text, 1),
    };
    // The suffix is one ASCII byte, so this is a char boundary.
    (&text[..text.len() - 1], mult)
}

/// A number written as a string, with an optional binary suffix.
fn parse_suffixed(text: &str) -> Option<f64> {
    let (digits, mult) = split_suffix(text);
    // Rust's float parser also takes `inf` and `NaN`; numbers have digits.
    if !digits.bytes().any(|b| b.is_ascii_digit()) {
        return None;
    }
    let value: f64 = digits.parse().ok()?;
    Some(value * mult as f64)
}

/// Any number (finiteness and range are checked by the callers).
fn number(node: &MarkedYaml<'_>, key: &str, hint: &str) -> io::Result<f64> {
    let value = match data_of(node) {
        YamlData::Value(Scalar::Integer(i)) => Some(*i as f64),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.into_inner()),
        YamlData::Value(Scalar::String(s)) => parse_suffixed(s),
        YamlData::Representation(s, _, _) => parse_suffixed(s),
        _ => None,
    };
    let value = value.ok_or_else(|| value_error(node, key, "is not a number", hint))?;
    if !value.is_finite() {
        return Err(value_error(node, key, "is not a finite number", hint));
    }
    Ok(value)
}

/// A rate: finite and greater than 0.
fn positive(node: &MarkedYaml<'_>, key: &str, hint: &str) -> io::Result<f64> {
    let value = number(node, key, hint)?;
    if value > 0.0 {
        Ok(value)
    } else {
        Err(value_error(node, key, "is not greater than 0", hint))
    }
}

fn rate_factor(node: &MarkedYaml<'_>) -> io::Result<f64> {
    let key = "rate_factor";
    let value = number(node, key, RATE_FACTOR_HINT)?;
    if value > 0.0 && value <= MAX_RATE_FACTOR {
        Ok(value)
    } else {
        Err(value_error(node, key, "is out of range", RATE_FACTOR_HINT))
    }
}

/// A length in bytes: a whole number of at least 1.
fn length(node: &MarkedYaml<'_>, key: &str) -> io::Result<u64> {
    let not_whole = || value_error(node, key, "is not a whole number of bytes", LENGTH_HINT);
    let too_small = || value_error(node, key, "is less than 1", LENGTH_HINT);
    let from_float = |value: f64| {
        // 2^64: the first f64 past `u64::MAX`.
        const LIMIT: f64 = 18_446_744_073_709_551_616.0;
        if !value.is_finite() || value.fract() != 0.0 || value >= LIMIT {
            Err(not_whole())
        } else if value < 1.0 {
            Err(too_small())
        } else {
            Ok(value as u64)
        }
    };
    match data_of(node) {
        YamlData::Value(Scalar::Integer(i)) => u64::try_from(*i)
            .ok()
            .filter(|v| *v >= 1)
            .ok_or_else(too_small),
        YamlData::Value(Scalar::FloatingPoint(f)) => from_float(f.into_inner()),
        YamlData::Value(Scalar::String(s)) => parse_length(s, node, key, from_float),
        YamlData::Representation(s, _, _) => parse_length(s, node, key, from_float),
        _ => Err(value_error(node, key, "is not a number", LENGTH_HINT)),
    }
}

fn parse_length(
    text: &str,
    node: &MarkedYaml<'_>,
    key: &str,
    from_float: impl Fn(f64) -> io::Result<u64>,
) -> io::Result<u64> {
    let (digits, mult) = split_suffix(text);
    // Exact for whole numbers too large for an f64 mantissa.
    if let Ok(whole) = digits.parse::<u64>() {
        return match whole.checked_mul(mult) {
            Some(0) => Err(value_error(node, key, "is less than 1", LENGTH_HINT)),
            Some(v) => Ok(v),
            None => Err(value_error(node, key, "is too large", LENGTH_HINT)),
        };
    }
    match parse_suffixed(text) {
        Some(value) => from_float(value),
        None => Err(value_error(node, key, "is not a number", LENGTH_HINT)),
    }
}

fn boolean(node: &MarkedYaml<'_>, key: &str) -> io::Result<bool> {
    match data_of(node) {
        YamlData::Value(Scalar::Boolean(b)) => Ok(*b),
        _ => Err(value_error(
            node,
            key,
            "is not a boolean",
            "(expected true or false)",
        )),
    }
}

/// One absolute path.
fn mountpoint(node: &MarkedYaml<'_>, key: &str) -> io::Result<PathBuf> {
    const HINT: &str = "(expected an absolute path, e.g. /var/lib/data)";
    let text = match data_of(node) {
        YamlData::Value(Scalar::String(s)) => s.as_ref(),
        YamlData::Representation(s, _, _) => s.as_ref(),
        _ => return Err(value_error(node, key, "is not a path", HINT)),
    };
    let path = PathBuf::from(text);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(value_error(node, key, "is not an absolute path", HINT))
    }
}

fn parse_top(doc: &MarkedYaml<'_>) -> io::Result<IoProperties> {
    let top = Fields::new(doc, "the file", TOP_KEYS)?;
    let mut props = IoProperties::new();
    // Where each mount point was described, to reject duplicates.
    let mut seen: Vec<(PathBuf, usize)> = Vec::new();
    if let Some(disks) = top.get("disks") {
        let YamlData::Sequence(entries) = data_of(disks) else {
            return Err(value_error(
                disks,
                "disks",
                "is not a list",
                "(expected a list of disk entries, each with `mountpoint`, `read_iops`, ...)",
            ));
        };
        for entry in entries {
            let disk = parse_disk(entry)?;
            for path in &disk.mountpoints {
                if let Some((_, first)) = seen.iter().find(|(p, _)| p == path) {
                    return Err(invalid(
                        line_of(entry),
                        format_args!(
                            "mount point {} is already described on line {first} (expected each mount point once)",
                            path.display()
                        ),
                    ));
                }
                seen.push((path.clone(), line_of(entry)));
            }
            props.disks.push(disk);
        }
    }
    if let Some(network) = top.get("network") {
        props.network = Some(parse_network(network)?);
    }
    if props.disks.is_empty() && props.network.is_none() {
        return Err(invalid(
            top.line,
            "the file describes no device (expected a non-empty `disks:` list and/or a `network:` section)",
        ));
    }
    Ok(props)
}

fn parse_disk(entry: &MarkedYaml<'_>) -> io::Result<DiskProperties> {
    const NEEDS: &str = "every disk needs `mountpoint` or `mountpoints`, `read_iops`, \
                         `read_bandwidth`, `write_iops` and `write_bandwidth`";
    let fields = Fields::new(entry, "disk entry", DISK_KEYS)?;
    let mountpoints = match (fields.get("mountpoint"), fields.get("mountpoints")) {
        (Some(_), Some(both)) => {
            return Err(invalid(
                line_of(both),
                "key `mountpoints`: the disk entry also has `mountpoint` (expected one of the two)",
            ));
        }
        (Some(one), None) => vec![mountpoint(one, "mountpoint")?],
        (None, Some(list)) => {
            let key = "mountpoints";
            let hint = "(expected a non-empty list of absolute paths, e.g. [/a, /b])";
            let YamlData::Sequence(items) = data_of(list) else {
                return Err(value_error(list, key, "is not a list", hint));
            };
            if items.is_empty() {
                return Err(value_error(list, key, "is empty", hint));
            }
            items
                .iter()
                .map(|item| mountpoint(item, key))
                .collect::<io::Result<Vec<_>>>()?
        }
        (None, None) => {
            return Err(invalid(
                fields.line,
                format_args!("disk entry is missing `mountpoint` (or `mountpoints`; {NEEDS})"),
            ));
        }
    };
    let ops = |key: &str| positive(fields.require(key, NEEDS)?, key, OPS_HINT);
    let bandwidth = |key: &str| positive(fields.require(key, NEEDS)?, key, BANDWIDTH_HINT);
    let read_iops = ops("read_iops")?;
    let read_bandwidth = bandwidth("read_bandwidth")?;
    let write_iops = ops("write_iops")?;
    let write_bandwidth = bandwidth("write_bandwidth")?;
    let opt_length = |key: &str| fields.get(key).map(|v| length(v, key)).transpose();
    Ok(DiskProperties {
        mountpoints,
        read_iops,
        read_bandwidth,
        write_iops,
        write_bandwidth,
        read_saturation_length: opt_length("read_saturation_length")?,
        write_saturation_length: opt_length("write_saturation_length")?,
        duplex: match fields.get("duplex") {
            Some(v) => boolean(v, "duplex")?,
            None => false,
        },
        rate_factor: match fields.get("rate_factor") {
            Some(v) => rate_factor(v)?,
            None => 1.0,
        },
    })
}

fn parse_network(node: &MarkedYaml<'_>) -> io::Result<NetProperties> {
    const NEEDS: &str =
        "the network section needs `tx_ops`, `tx_bandwidth`, `rx_ops` and `rx_bandwidth`";
    let fields = Fields::new(node, "network section", NET_KEYS)?;
    let ops = |key: &str| positive(fields.require(key, NEEDS)?, key, OPS_HINT);
    let bandwidth = |key: &str| positive(fields.require(key, NEEDS)?, key, BANDWIDTH_HINT);
    Ok(NetProperties {
        tx_ops: ops("tx_ops")?,
        tx_bandwidth: bandwidth("tx_bandwidth")?,
        rx_ops: ops("rx_ops")?,
        rx_bandwidth: bandwidth("rx_bandwidth")?,
        rate_factor: match fields.get("rate_factor") {
            Some(v) => rate_factor(v)?,
            None => 1.0,
        },
    })
}

// ---------------------------------------------------------------------------
// Writing.

/// A number written so that YAML reads back the same `f64`: Rust prints the
/// shortest digits that round-trip; large and tiny values use an exponent.
struct Num(f64);

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let v = self.0;
        if v.is_nan() {
            f.write_str(".nan")
        } else if v.is_infinite() {
            f.write_str(if v > 0.0 { ".inf" } else { "-.inf" })
        } else if v != 0.0 && (v.abs() >= 1e16 || v.abs() < 1e-4) {
            write!(f, "{v:e}")
        } else {
            write!(f, "{v}")
        }
    }
}

/// A length in bytes: an integer, quoted past `i64::MAX` (where a YAML
/// integer would be read as a float and lose digits).
struct Len(u64);

impl fmt::Display for Len {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if i64::try_from(self.0).is_ok() {
            write!(f, "{}", self.0)
        } else {
            write!(f, "\"{}\"", self.0)
        }
    }
}

fn line(out: &mut String, indent: &str, key: &str, value: impl fmt::Display) {
    let _ = writeln!(out, "{indent}{key}: {value}");
}

/// A path as a YAML scalar: plain if it is only safe characters, else
/// double-quoted with escapes.
struct YamlPath<'a>(&'a Path);

impl fmt::Display for YamlPath<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = self.0.to_string_lossy();
        let plain = text.starts_with('/')
            && text
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '.' | '-' | '+'));
        if plain {
            return f.write_str(&text);
        }
        f.write_char('"')?;
        for c in text.chars() {
            match c {
                '"' => f.write_str("\\\"")?,
                '\\' => f.write_str("\\\\")?,
                c if (c as u32) < 0x20 || c == '\u{7f}' => write!(f, "\\x{:02x}", c as u32)?,
                c => f.write_char(c)?,
            }
        }
        f.write_char('"')
    }
}

fn write_disk(out: &mut String, disk: &DiskProperties) {
    let ind = "    ";
    match disk.mountpoints.as_slice() {
        [one] => {
            let _ = writeln!(out, "  - mountpoint: {}", YamlPath(one));
        }
        many => {
            out.push_str("  - mountpoints: [");
            for (i, path) in many.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                let _ = write!(out, "{}", YamlPath(path));
            }
            out.push_str("]\n");
        }
    }
    line(out, ind, "read_iops", Num(disk.read_iops));
    line(out, ind, "read_bandwidth", Num(disk.read_bandwidth));
    line(out, ind, "write_iops", Num(disk.write_iops));
    line(out, ind, "write_bandwidth", Num(disk.write_bandwidth));
    if let Some(len) = disk.read_saturation_length {
        line(out, ind, "read_saturation_length", Len(len));
    }
    if let Some(len) = disk.write_saturation_length {
        line(out, ind, "write_saturation_length", Len(len));
    }
    if disk.duplex {
        line(out, ind, "duplex", true);
    }
    if disk.rate_factor != 1.0 {
        line(out, ind, "rate_factor", Num(disk.rate_factor));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: f64 = 1024.0;
    const M: f64 = K * K;
    const G: f64 = M * K;

    const EXAMPLE: &str = "\
disks:
  - mountpoint: /var/lib/data
    read_iops: 62800
    read_bandwidth: 1.2G
    write_iops: 40k
    write_bandwidth: 500M
    rate_factor: 0.9
  - mountpoints: [/a, /b]
    read_iops: 1000
    read_bandwidth: 100M
    write_iops: 1000
    write_bandwidth: 100M
network:
  tx_ops: 1M
  tx_bandwidth: 1.25G
  rx_ops: 1M
  rx_bandwidth: 1.25G
";

    /// The error message of parsing `text`, checking the error's kind.
    fn error(text: &str) -> String {
        match IoProperties::from_yaml(text) {
            Ok(props) => panic!("{text:?} parsed as {props:?}"),
            Err(e) => {
                assert_eq!(e.kind(), io::ErrorKind::InvalidData, "{e}");
                e.to_string()
            }
        }
    }

    /// A one-disk file with `extra` lines (already indented) after the
    /// required keys; the required keys are on lines 2 to 6.
    fn disk_with(extra: &str) -> String {
        format!(
            "disks:\n  - mountpoint: /d\n    read_iops: 1000\n    read_bandwidth: 100M\n    \
             write_iops: 1000\n    write_bandwidth: 100M\n{extra}"
        )
    }

    #[test]
    fn parses_example() {
        let props = IoProperties::from_yaml(EXAMPLE).unwrap();
        assert_eq!(props.disks.len(), 2);
        let d = &props.disks[0];
        assert_eq!(d.mountpoints, vec![PathBuf::from("/var/lib/data")]);
        assert_eq!(d.read_iops, 62800.0);
        assert_eq!(d.read_bandwidth, 1.2 * G);
        assert_eq!(d.write_iops, 40.0 * K);
        assert_eq!(d.write_bandwidth, 500.0 * M);
        assert_eq!(d.rate_factor, 0.9);
        assert!(!d.duplex);
        assert_eq!(d.read_saturation_length, None);
        assert_eq!(d.write_saturation_length, None);
        let d = &props.disks[1];
        assert_eq!(
            d.mountpoints,
            vec![PathBuf::from("/a"), PathBuf::from("/b")]
        );
        assert_eq!(d.read_iops, 1000.0);
        assert_eq!(d.read_bandwidth, 100.0 * M);
        assert_eq!(d.rate_factor, 1.0);
        let net = props.network.as_ref().unwrap();
        assert_eq!(
            net,
            &NetProperties::new(1.0 * M, 1.25 * G, 1.0 * M, 1.25 * G)
        );

        let built = IoProperties::new()
            .disk(DiskProperties {
                rate_factor: 0.9,
                ..DiskProperties::new("/var/lib/data", 62800.0, 1.2 * G, 40.0 * K, 500.0 * M)
            })
            .disk(DiskProperties {
                mountpoints: vec!["/a".into(), "/b".into()],
                ..DiskProperties::new("/a", 1000.0, 100.0 * M, 1000.0, 100.0 * M)
            })
            .network(NetProperties::new(1.0 * M, 1.25 * G, 1.0 * M, 1.25 * G));
        assert_eq!(props, built);
    }

    #[test]
    fn parses_iotune_output_and_optional_keys() {
        // What Seastar's iotune writes: plain integers, one mountpoint.
        let text = disk_with(
            "    read_saturation_length: 128k\n    write_saturation_length: 65536\n    \
             duplex: true\n",
        );
        let props = IoProperties::from_yaml(&text).unwrap();
        let d = &props.disks[0];
        assert_eq!(d.read_saturation_length, Some(128 * 1024));
        assert_eq!(d.write_saturation_length, Some(65536));
        assert!(d.duplex);
        assert!(props.network.is_none());

        // A network-only file is fine.
        let props = IoProperties::from_yaml(
            "network: {tx_ops: 1, tx_bandwidth: 2, rx_ops: 3, rx_bandwidth: 4, rate_factor: 0.5}",
        )
        .unwrap();
        assert!(props.disks.is_empty());
        assert_eq!(
            props.network,
            Some(NetProperties {
                rate_factor: 0.5,
                ..NetProperties::new(1.0, 2.0, 3.0, 4.0)
            })
        );
    }

    #[test]
    fn suffixes() {
        let cases: &[(&str, f64)] = &[
            ("1000", 1000.0),
            ("1.5", 1.5),
            ("1e3", 1000.0),
            ("1k", K),
            ("2K", 2.0 * K),
            ("3M", 3.0 * M),
            ("1.25G", 1.25 * G),
            ("2T", 2.0 * G * K),
            ("0.5k", 512.0),
            ("\"7M\"", 7.0 * M),
            ("'1000'", 1000.0),
            ("0x10", 16.0),
        ];
        for (text, want) in cases {
            let file = format!(
                "network:\n  tx_ops: {text}\n  tx_bandwidth: 1\n  rx_ops: 1\n  rx_bandwidth: 1\n"
            );
            let got = IoProperties::from_yaml(&file)
                .unwrap()
                .network
                .unwrap()
                .tx_ops;
            assert_eq!(got, *want, "{text}");
        }
        for bad in [
            "12X", "k", "1m", "1KB", "1 k k", "inf", "NaN", "\"\"", "[1]", "{a: 1}", "true",
        ] {
            let file = format!(
                "network:\n  tx_ops: 1\n  tx_bandwidth: {bad}\n  rx_ops: 1\n  rx_bandwidth: 1\n"
            );
            let msg = error(&file);
            assert!(
                msg.starts_with("io_properties line 3: key `tx_bandwidth`: "),
                "{bad}: {msg}"
            );
            assert!(msg.contains("is not a number"), "{bad}: {msg}");
        }
        // Saturation lengths take suffixes but must be whole.
        let props =
            IoProperties::from_yaml(&disk_with("    read_saturation_length: 1.5k\n")).unwrap();
        assert_eq!(props.disks[0].read_saturation_length, Some(1536));
        for (bad, problem) in [
            ("1.3", "is not a whole number"),
            ("0", "is less than 1"),
            ("-4", "is less than 1"),
            ("0k", "is less than 1"),
            ("20000000T", "is too large"),
            ("1e30", "is not a whole number"),
            ("big", "is not a number"),
        ] {
            let msg = error(&disk_with(&format!("    write_saturation_length: {bad}\n")));
            assert!(
                msg.starts_with("io_properties line 7: key `write_saturation_length`: "),
                "{bad}: {msg}"
            );
            assert!(msg.contains(problem), "{bad}: {msg}");
        }
    }

    #[test]
    fn mountpoints_list() {
        let text = "disks:\n  - mountpoints:\n      - /x\n      - \"/with space\"\n    \
                    read_iops: 1\n    read_bandwidth: 1\n    write_iops: 1\n    write_bandwidth: 1\n";
        let props = IoProperties::from_yaml(text).unwrap();
        assert_eq!(
            props.disks[0].mountpoints,
            vec![PathBuf::from("/x"), PathBuf::from("/with space")]
        );

        // Each entry is checked on its own line.
        let text = "disks:\n  - mountpoints:\n      - /x\n      - relative\n    read_iops: 1\n";
        let msg = error(text);
        assert!(
            msg.starts_with(
                "io_properties line 4: key `mountpoints`: \"relative\" is not an absolute path"
            ),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("mountpoint: /d", "mountpoints: []"));
        assert!(
            msg.starts_with("io_properties line 2: key `mountpoints`: a list is empty"),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("mountpoint: /d", "mountpoint: [/d]"));
        assert!(
            msg.starts_with("io_properties line 2: key `mountpoint`: a list is not a path"),
            "{msg}"
        );

        // A mount point described twice.
        let text = format!("{}{}", disk_with(""), disk_with("").replace("disks:\n", ""));
        let msg = error(&text);
        assert!(
            msg.starts_with("io_properties line 7: mount point /d is already described on line 2"),
            "{msg}"
        );
    }

    #[test]
    fn to_yaml_round_trips() {
        let props = IoProperties::from_yaml(EXAMPLE).unwrap();
        let yaml = props.to_yaml();
        assert_eq!(IoProperties::from_yaml(&yaml).unwrap(), props, "{yaml}");

        let awkward = IoProperties::new()
            .disk(DiskProperties {
                read_saturation_length: Some(u64::MAX),
                write_saturation_length: Some(1),
                duplex: true,
                rate_factor: 1e3,
                ..DiskProperties::new(
                    "/odd: \"path\" #x\\y",
                    1e-300,
                    1e300,
                    0.1 + 0.2,
                    123456789.123,
                )
            })
            .disk(DiskProperties {
                mountpoints: vec!["/a b".into(), "/c,d".into(), "/[e]".into(), "/ü".into()],
                ..DiskProperties::new("/", 3.0, f64::MAX, f64::MIN_POSITIVE, 1e16)
            })
            .network(NetProperties {
                rate_factor: 5e-324,
                ..NetProperties::new(1.0, 2.5, 1e-5, 9007199254740993.0)
            });
        let yaml = awkward.to_yaml();
        assert_eq!(IoProperties::from_yaml(&yaml).unwrap(), awkward, "{yaml}");

        // Network only, disks only.
        let net_only = IoProperties::new().network(NetProperties::new(1.0, 2.0, 3.0, 4.0));
        assert_eq!(
            IoProperties::from_yaml(&net_only.to_yaml()).unwrap(),
            net_only
        );
        let disk_only = IoProperties::new().disk(DiskProperties::new("/", 1.0, 2.0, 3.0, 4.0));
        assert_eq!(
            IoProperties::from_yaml(&disk_only.to_yaml()).unwrap(),
            disk_only
        );

        // Nothing to describe: written, but rejected when read back.
        let msg = error(&IoProperties::new().to_yaml());
        assert!(msg.contains("describes no device"), "{msg}");
    }

    #[test]
    fn disk_for_longest_component_prefix() {
        let props = IoProperties::new()
            .disk(DiskProperties::new("/a", 1.0, 1.0, 1.0, 1.0))
            .disk(DiskProperties::new("/a/b", 2.0, 1.0, 1.0, 1.0))
            .disk(DiskProperties::new("/ab", 3.0, 1.0, 1.0, 1.0));
        let iops = |p: &str| props.disk_for(Path::new(p)).map(|d| d.read_iops);
        assert_eq!(iops("/a"), Some(1.0));
        assert_eq!(iops("/a/"), Some(1.0));
        assert_eq!(iops("/a/x"), Some(1.0));
        assert_eq!(iops("/a/bc"), Some(1.0));
        assert_eq!(iops("/a/b"), Some(2.0));
        assert_eq!(iops("/a/b/c/d"), Some(2.0));
        assert_eq!(iops("/ab"), Some(3.0));
        assert_eq!(iops("/ab/x"), Some(3.0));
        assert_eq!(iops("/abc"), None);
        assert_eq!(iops("/"), None);
        assert_eq!(iops("a/b"), None);

        // `/ab/x` must not fall back to `/a`.
        let only_a = IoProperties::new().disk(DiskProperties::new("/a", 1.0, 1.0, 1.0, 1.0));
        assert!(only_a.disk_for(Path::new("/ab/x")).is_none());

        // A root disk catches everything; a disk with several mount points
        // is found through any of them.
        let props = IoProperties::from_yaml(EXAMPLE)
            .unwrap()
            .disk(DiskProperties::new("/", 7.0, 1.0, 1.0, 1.0));
        let iops = |p: &str| props.disk_for(Path::new(p)).map(|d| d.read_iops);
        assert_eq!(iops("/b/file"), Some(1000.0));
        assert_eq!(iops("/var/lib/data/x"), Some(62800.0));
        assert_eq!(iops("/var/lib"), Some(7.0));
    }

    #[test]
    fn unknown_keys() {
        let msg = error(&disk_with("    read_iops_typo: 5\n"));
        assert!(
            msg.starts_with("io_properties line 7: unknown key `read_iops_typo` in disk entry (expected one of `mountpoint`,"),
            "{msg}"
        );
        let msg = error(&format!("{}disk:\n  - {{}}\n", disk_with("")));
        assert!(
            msg.starts_with("io_properties line 7: unknown key `disk` in the file (expected one of `disks`, `network`)"),
            "{msg}"
        );
        let msg = error(
            "network:\n  tx_ops: 1\n  tx_bandwidth: 1\n  rx_ops: 1\n  rx_bandwidth: 1\n  duplex: true\n",
        );
        assert!(
            msg.starts_with("io_properties line 6: unknown key `duplex` in network section"),
            "{msg}"
        );
        let msg = error(&disk_with("    7: 5\n"));
        assert!(
            msg.starts_with("io_properties line 7: unknown key 7 in disk entry"),
            "{msg}"
        );
    }

    #[test]
    fn bad_numbers() {
        let msg = error(&disk_with("").replace("read_bandwidth: 100M", "read_bandwidth: 12X"));
        assert_eq!(
            msg,
            "io_properties line 4: key `read_bandwidth`: \"12X\" is not a number \
             (expected e.g. 1200000, 1.2G or 500M)"
        );
        let msg = error(&disk_with("").replace("read_iops: 1000", "read_iops: -5"));
        assert!(
            msg.starts_with("io_properties line 3: key `read_iops`: -5 is not greater than 0"),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("write_iops: 1000", "write_iops: 0"));
        assert!(
            msg.starts_with("io_properties line 5: key `write_iops`: 0 is not greater than 0"),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("write_bandwidth: 100M", "write_bandwidth: -1.5G"));
        assert!(
            msg.starts_with(
                "io_properties line 6: key `write_bandwidth`: \"-1.5G\" is not greater than 0"
            ),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("read_iops: 1000", "read_iops: .inf"));
        assert!(
            msg.starts_with("io_properties line 3: key `read_iops`: inf is not a finite number"),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("read_iops: 1000", "read_iops:"));
        assert!(
            msg.starts_with(
                "io_properties line 3: key `read_iops`: an empty value is not a number"
            ),
            "{msg}"
        );
        let msg = error(&disk_with("").replace("read_iops: 1000", "read_iops: 1e999"));
        assert!(msg.contains("is not a finite number"), "{msg}");
        for bad in ["0", "-1", "1001", "2k"] {
            let msg = error(&disk_with(&format!("    rate_factor: {bad}\n")));
            assert!(
                msg.starts_with("io_properties line 7: key `rate_factor`: ")
                    && msg.contains("is out of range"),
                "{bad}: {msg}"
            );
            assert!(msg.contains("(0, 1000]"), "{msg}");
        }
        let msg = error(&disk_with("    duplex: yes\n"));
        assert!(
            msg.starts_with("io_properties line 7: key `duplex`: \"yes\" is not a boolean (expected true or false)"),
            "{msg}"
        );
    }

    #[test]
    fn missing_keys() {
        let msg = error(&disk_with("").replace("    write_iops: 1000\n", ""));
        assert!(
            msg.starts_with("io_properties line 2: disk entry is missing `write_iops`"),
            "{msg}"
        );
        // The second entry's line is named.
        let second = disk_with("").replace("disks:\n", "").replace("/d", "/e");
        let text = format!(
            "{}{}",
            disk_with(""),
            second.replace("    read_bandwidth: 100M\n", "")
        );
        let msg = error(&text);
        assert!(
            msg.starts_with("io_properties line 7: disk entry is missing `read_bandwidth`"),
            "{msg}"
        );
        let msg = error("disks:\n  - read_iops: 1\n    read_bandwidth: 1\n");
        assert!(
            msg.starts_with(
                "io_properties line 2: disk entry is missing `mountpoint` (or `mountpoints`"
            ),
            "{msg}"
        );
        let msg = error("disks: []\nnetwork:\n  tx_ops: 1\n  rx_ops: 1\n  rx_bandwidth: 1\n");
        assert!(
            msg.starts_with("io_properties line 3: network section is missing `tx_bandwidth`"),
            "{msg}"
        );
    }

    #[test]
    fn both_mountpoint_and_mountpoints() {
        let msg = error(&disk_with("    mountpoints: [/e]\n"));
        assert!(
            msg.starts_with(
                "io_properties line 7: key `mountpoints`: the disk entry also has `mountpoint`"
            ),
            "{msg}"
        );
    }

    #[test]
    fn wrong_shapes() {
        let msg = error("disks: /a\n");
        assert!(
            msg.starts_with("io_properties line 1: key `disks`: \"/a\" is not a list"),
            "{msg}"
        );
        let msg = error("disks:\n  - /a\n");
        assert!(
            msg.starts_with("io_properties line 2: disk entry is \"/a\", expected a mapping"),
            "{msg}"
        );
        let msg = error("- a\n- b\n");
        assert!(
            msg.starts_with("io_properties line 1: the file is a list, expected a mapping"),
            "{msg}"
        );
        let msg = error("just text\n");
        assert!(
            msg.starts_with("io_properties line 1: the file is \"just text\""),
            "{msg}"
        );
        let msg = error("network: 5\n");
        assert!(
            msg.starts_with("io_properties line 1: network section is 5, expected a mapping"),
            "{msg}"
        );
        let msg = error("disks: []\n");
        assert!(
            msg.starts_with("io_properties line 1: the file describes no device"),
            "{msg}"
        );
        let msg = error("# comment\n\n{}\n");
        assert!(
            msg.starts_with("io_properties line 3: the file describes no device"),
            "{msg}"
        );
        let msg = error(&format!("{}---\nnetwork: {{}}\n", disk_with("")));
        assert!(
            msg.starts_with("io_properties line 8: a second YAML document"),
            "{msg}"
        );
    }

    #[test]
    fn syntax_errors() {
        let msg = error("disks:\n  - mountpoint: /a\n    read_iops: [1,\n");
        assert!(
            msg.starts_with("io_properties line 4: YAML syntax error"),
            "{msg}"
        );
        let msg = error("disks:\n  - mountpoint: /a\n   read_iops: 1\n");
        assert!(
            msg.starts_with("io_properties line 3: YAML syntax error"),
            "{msg}"
        );
        let msg = error("network:\n  tx_ops: 1\n  tx_ops: 2\n");
        assert!(
            msg.starts_with("io_properties line 3: YAML syntax error")
                && msg.contains("duplicated key"),
            "{msg}"
        );
        let msg = error("network: *undefined\n");
        assert!(
            msg.starts_with("io_properties line 1: YAML syntax error"),
            "{msg}"
        );
        // Deep nesting is refused by the parser, not a stack overflow.
        let msg = error(&format!("disks: {}", "[".repeat(100_000)));
        assert!(
            msg.starts_with("io_properties line 1: YAML syntax error"),
            "{msg}"
        );
    }

    #[test]
    fn empty_file() {
        for text in ["", "\n\n", "# only a comment\n"] {
            let msg = error(text);
            assert!(
                msg.starts_with("io_properties line 1: the file is empty"),
                "{text:?}: {msg}"
            );
        }
    }

    #[test]
    fn from_path_names_the_path() {
        let dir = std::env::temp_dir().join(format!("shardio-props-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let good = dir.join("good.yaml");
        std::fs::write(&good, EXAMPLE).unwrap();
        assert_eq!(
            IoProperties::from_path(&good).unwrap(),
            IoProperties::from_yaml(EXAMPLE).unwrap()
        );

        let bad = dir.join("bad.yaml");
        std::fs::write(&bad, "disks:\n  - mountpoint: /a\n    bogus: 1\n").unwrap();
        let err = IoProperties::from_path(&bad).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let msg = err.to_string();
        assert!(
            msg.starts_with(&format!(
                "{}: io_properties line 3: unknown key `bogus`",
                bad.display()
            )),
            "{msg}"
        );

        let missing = dir.join("missing.yaml");
        let err = IoProperties::from_path(&missing).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::NotFound);
        assert!(
            err.to_string().starts_with(&missing.display().to_string()),
            "{err}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
