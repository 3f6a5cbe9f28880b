//! What has no io_uring opcode runs on Tokio's blocking pool, as in Tokio.

use std::io;
use std::mem::ManuallyDrop;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Runs `f` on the blocking pool.
pub(crate) async fn asyncify<F, T>(f: F) -> io::Result<T>
where
    F: FnOnce() -> io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    match tokio::task::spawn_blocking(f).await {
        Ok(res) => res,
        Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
        Err(_) => Err(io::Error::other(
            "shardio: the runtime's blocking pool shut down before this operation could run",
        )),
    }
}

/// A `std::fs::File` view of `fd` that never closes it.
pub(crate) fn std_view(fd: &OwnedFd) -> ManuallyDrop<std::fs::File> {
    // SAFETY: `fd` is open for as long as the borrow the caller holds, and
    // the ManuallyDrop never closes it.
    ManuallyDrop::new(unsafe { std::fs::File::from_raw_fd(fd.as_raw_fd()) })
}
