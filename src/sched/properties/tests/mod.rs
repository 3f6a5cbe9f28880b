//! Tests of the io_properties types, parser and writer.

use std::io;
use std::path::{Path, PathBuf};

use super::{DiskProperties, IoProperties, NetProperties};

mod errors;
mod read;
mod write;

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
