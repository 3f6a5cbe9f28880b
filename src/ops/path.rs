//! Paths as the kernel reads them.

use std::ffi::CString;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

/// `path` as a NUL-terminated string on the heap (it stays put while an
/// operation is in flight).
pub(crate) fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("shardio: the path {path:?} contains an interior NUL byte"),
        )
    })
}

/// `Ok(())` for a zero return of a libc call, the errno otherwise.
pub(crate) fn cvt0(ret: libc::c_int) -> io::Result<()> {
    if ret == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
