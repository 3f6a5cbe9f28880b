//! O_DIRECT: the device's alignment and the checks made before submission.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};

/// The logical block size of the device holding `fd` (the O_DIRECT
/// alignment), from sysfs; 4096 when it cannot be read.
pub(crate) fn device_alignment(fd: &OwnedFd) -> usize {
    // SAFETY: `libc::stat` is plain integers, valid when all zero.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: fstat fills `st`, a stat struct we own, for `fd`, open for as
    // long as it is borrowed here.
    if unsafe { libc::fstat(fd.as_raw_fd(), &mut st) } != 0 {
        return 4096;
    }
    let (major, minor) = (libc::major(st.st_dev), libc::minor(st.st_dev));
    let base = format!("/sys/dev/block/{major}:{minor}");
    // A partition's queue settings live on its disk, one level up.
    for path in [
        format!("{base}/queue/logical_block_size"),
        format!("{base}/../queue/logical_block_size"),
    ] {
        if let Some(size) = std::fs::read_to_string(path)
            .ok()
            .and_then(|s| s.trim().parse::<usize>().ok())
            .filter(|s| s.is_power_of_two())
        {
            return size;
        }
    }
    4096
}

/// Fails with `InvalidInput` naming what is misaligned for O_DIRECT.
pub(crate) fn check(align: usize, ptr: *const u8, len: usize, pos: u64) -> io::Result<()> {
    let misaligned = |what: &str, value: u64| {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "shardio: O_DIRECT needs the buffer address, length and file offset aligned to \
                 {align} bytes (the device's logical block size), but the {what} is {value}; \
                 use File::aligned_buf for buffers"
            ),
        ))
    };
    if !(ptr as usize).is_multiple_of(align) {
        return misaligned("buffer address", ptr as u64);
    }
    if !len.is_multiple_of(align) {
        return misaligned("length", len as u64);
    }
    if !pos.is_multiple_of(align as u64) {
        return misaligned("file offset", pos);
    }
    Ok(())
}
