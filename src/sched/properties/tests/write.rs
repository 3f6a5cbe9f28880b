//! Writing properties out and reading them back.

use super::*;
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
            interface: Some("veth-\"q\"".into()),
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
