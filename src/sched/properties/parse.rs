//! Parsing io_properties YAML. Every node keeps its line number, so a bad
//! file is rejected with an error naming the line, the key and what was
//! expected.

use std::fmt::{self, Write as _};
use std::io;
use std::path::{Path, PathBuf};

use saphyr::{LoadableYamlNode, MarkedYaml, Scalar, ScanError, YamlData};

use super::number::{parse_size, split_suffix};
use super::{DiskProperties, IoProperties, NetProperties};

impl IoProperties {
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
}

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
    "interface",
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

/// Any number (finiteness and range are checked by the callers).
fn number(node: &MarkedYaml<'_>, key: &str, hint: &str) -> io::Result<f64> {
    let value = match data_of(node) {
        YamlData::Value(Scalar::Integer(i)) => Some(*i as f64),
        YamlData::Value(Scalar::FloatingPoint(f)) => Some(f.into_inner()),
        YamlData::Value(Scalar::String(s)) => parse_size(s),
        YamlData::Representation(s, _, _) => parse_size(s),
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
    match parse_size(text) {
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

/// A network interface's name, as `ip link` shows it.
fn interface(node: &MarkedYaml<'_>) -> io::Result<String> {
    const HINT: &str = "(expected an interface name as `ip link` shows it, e.g. eth0)";
    let text: &str = match data_of(node) {
        YamlData::Value(Scalar::String(s)) => s.as_ref(),
        YamlData::Representation(s, _, _) => s.as_ref(),
        _ => return Err(value_error(node, "interface", "is not a name", HINT)),
    };
    // Linux: at most IFNAMSIZ - 1 bytes, no '/', ':' or whitespace.
    let valid = !text.is_empty()
        && text.len() < libc::IFNAMSIZ
        && !text
            .chars()
            .any(|c| c == '/' || c == ':' || c.is_whitespace());
    if valid {
        Ok(text.to_owned())
    } else {
        Err(value_error(
            node,
            "interface",
            "is not a valid interface name",
            HINT,
        ))
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
        interface: fields.get("interface").map(interface).transpose()?,
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
