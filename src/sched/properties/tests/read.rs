//! Reading valid files.

use super::*;
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
    let props = IoProperties::from_yaml(&disk_with("    read_saturation_length: 1.5k\n")).unwrap();
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

#[test]
fn network_for_one_interface() {
    let props = IoProperties::from_yaml(
        "network: {interface: veth0, tx_ops: 1, tx_bandwidth: 2, rx_ops: 3, rx_bandwidth: 4}",
    )
    .unwrap();
    assert_eq!(props.network.unwrap().interface.as_deref(), Some("veth0"));
    for bad in ["\"\"", "a/b", "\"eth 0\"", "sixteen-chars-xx", "[eth0]"] {
        let yaml = format!(
            "network: {{interface: {bad}, tx_ops: 1, tx_bandwidth: 2, rx_ops: 3, rx_bandwidth: 4}}"
        );
        let err = IoProperties::from_yaml(&yaml).unwrap_err().to_string();
        assert!(err.contains("interface"), "{bad}: {err}");
    }
}
