//! Unix domain sockets; the split halves, `SocketAddr` and `UCred` live here
//! as in `tokio::net::unix`.

pub(crate) mod datagram;
pub(crate) mod listener;
pub mod pipe;
pub(crate) mod socket;
pub(crate) mod split;
pub(crate) mod stream;

use std::io;

pub use split::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, ReuniteError, WriteHalf};
/// The address of a Unix socket (Tokio's type).
pub use tokio::net::unix::SocketAddr;

/// A user id, as Tokio names it (`u32`).
#[allow(non_camel_case_types)]
pub type uid_t = u32;

/// A group id, as Tokio names it (`u32`).
#[allow(non_camel_case_types)]
pub type gid_t = u32;

/// A process id, as Tokio names it (`i32`).
#[allow(non_camel_case_types)]
pub type pid_t = i32;

/// Credentials of the process at the other end of a Unix stream
/// (`SO_PEERCRED`), with Tokio's accessors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UCred {
    pid: Option<i32>,
    uid: u32,
    gid: u32,
}

impl UCred {
    /// The peer's user id.
    pub fn uid(&self) -> u32 {
        self.uid
    }

    /// The peer's group id.
    pub fn gid(&self) -> u32 {
        self.gid
    }

    /// The peer's process id, when the kernel reports one.
    pub fn pid(&self) -> Option<i32> {
        self.pid
    }
}

/// `SO_PEERCRED` of a connected Unix socket.
pub(crate) fn peer_cred(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<UCred> {
    use std::os::fd::AsRawFd;
    let mut cred = libc::ucred {
        pid: 0,
        uid: 0,
        gid: 0,
    };
    let mut len = std::mem::size_of::<libc::ucred>() as libc::socklen_t;
    // SAFETY: getsockopt writes at most `len` bytes into `cred`, a local of
    // exactly that size.
    let ret = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PEERCRED,
            (&raw mut cred).cast(),
            &mut len,
        )
    };
    if ret != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(UCred {
        pid: (cred.pid != 0).then_some(cred.pid),
        uid: cred.uid,
        gid: cred.gid,
    })
}

/// Runs a std address query on a Unix socket's fd (any socket type: std's
/// `UnixStream` only calls getsockname/getpeername here).
fn with_std_view(
    fd: std::os::fd::BorrowedFd<'_>,
    query: impl FnOnce(&std::os::unix::net::UnixStream) -> io::Result<std::os::unix::net::SocketAddr>,
) -> io::Result<SocketAddr> {
    use std::os::fd::{AsRawFd, FromRawFd};
    // SAFETY: the fd is open for the duration of this borrow, and the
    // ManuallyDrop never closes it.
    let view = std::mem::ManuallyDrop::new(unsafe {
        std::os::unix::net::UnixStream::from_raw_fd(fd.as_raw_fd())
    });
    query(&view).map(SocketAddr::from)
}

/// The local address of a Unix socket (named, unnamed or abstract).
pub(crate) fn local_addr_of(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<SocketAddr> {
    with_std_view(fd, |s| s.local_addr())
}

/// The peer address of a connected Unix socket.
pub(crate) fn peer_addr_of(fd: std::os::fd::BorrowedFd<'_>) -> io::Result<SocketAddr> {
    with_std_view(fd, |s| s.peer_addr())
}
