//! Rejecting bad files with the line, the key and what was expected.

use super::*;
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
        msg.starts_with("io_properties line 3: key `read_iops`: an empty value is not a number"),
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
        msg.starts_with(
            "io_properties line 7: key `duplex`: \"yes\" is not a boolean (expected true or false)"
        ),
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
