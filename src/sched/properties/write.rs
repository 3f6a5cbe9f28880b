//! Writing io_properties YAML that the parser reads back to equal
//! properties.

use std::fmt::{self, Write as _};
use std::path::Path;

use super::{DiskProperties, IoProperties};

impl IoProperties {
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
            if let Some(name) = &net.interface {
                line(&mut out, ind, "interface", YamlPath(Path::new(name)));
            }
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
}

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
