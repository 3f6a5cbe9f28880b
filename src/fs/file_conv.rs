//! [`File`]'s conversions to and from the standard library's types and
//! raw descriptors, its timestamps and its cursor's buffer size: Tokio's
//! items, beside the I/O of `file.rs`.

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::sync::Arc;

use super::File;
use super::blocking::{asyncify, std_view};
use super::file_times::FileTimes;

impl File {
    /// Converts a [`std::fs::File`] to a [`shardio::fs::File`](File). The
    /// cursor (`AsyncRead`/`AsyncWrite`/`AsyncSeek`) starts at the std
    /// file's current position, as in Tokio; on a pipe or socket, where
    /// there is none, the position is ignored.
    pub fn from_std(std: std::fs::File) -> File {
        let mut file = File::from_fd(OwnedFd::from(std));
        // SAFETY: `lseek` on a descriptor this `File` owns; it reads no
        // memory of ours.
        let pos = unsafe { libc::lseek(file.fd.as_raw_fd(), 0, libc::SEEK_CUR) };
        if let Ok(pos) = u64::try_from(pos) {
            file.cursor.get_mut().pos = pos;
        }
        file
    }

    /// Destructures `File` into a [`std::fs::File`]. This function is async
    /// to allow the cursor's operation in flight to complete; the std
    /// file's position is then the cursor's.
    ///
    /// Use [`File::try_into_std`] to attempt conversion immediately.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `File` it took, as dropping the `File`
    /// would: the descriptor is closed once the operations in flight let go
    /// of it.
    pub async fn into_std(self) -> std::fs::File {
        self.complete_inflight().await;
        let pos = self.cursor.lock().pos;
        let file = match Arc::try_unwrap(self.fd) {
            Ok(fd) => std::fs::File::from(fd),
            // A positional operation still holds the descriptor (its future
            // was dropped and the kernel has not let go yet): hand out a
            // duplicate, which shares the open file and its position.
            Err(shared) => match shared.try_clone() {
                Ok(fd) => std::fs::File::from(fd),
                // Out of descriptors: wait until the ops in flight let go.
                Err(_) => loop {
                    tokio::task::yield_now().await;
                    if Arc::strong_count(&shared) == 1 {
                        if let Ok(fd) = Arc::try_unwrap(Arc::clone(&shared)) {
                            break std::fs::File::from(fd);
                        }
                    }
                },
            },
        };
        seek_to(&file, pos);
        file
    }

    /// Tries to immediately destructure `File` into a [`std::fs::File`].
    ///
    /// # Errors
    ///
    /// This function will return an error containing the file if some
    /// operation is in flight (a cursor read or write, or a positional
    /// operation whose future was dropped before the kernel let go of the
    /// descriptor).
    #[allow(clippy::result_large_err)]
    pub fn try_into_std(mut self) -> Result<std::fs::File, Self> {
        if self.cursor.get_mut().inflight.is_some() {
            return Err(self);
        }
        let pos = self.cursor.get_mut().pos;
        let File {
            fd,
            inline_reads,
            cursor,
            max_buf_size,
            direct,
            sched,
        } = self;
        match Arc::try_unwrap(fd) {
            Ok(fd) => {
                let file = std::fs::File::from(fd);
                seek_to(&file, pos);
                Ok(file)
            }
            Err(fd) => Err(File {
                fd,
                inline_reads,
                cursor,
                max_buf_size,
                direct,
                sched,
            }),
        }
    }

    /// Changes the timestamps on the underlying file (`futimens`, on the
    /// blocking pool as in Tokio), after the cursor's write in flight.
    ///
    /// # Errors
    ///
    /// This function will return an error if the user lacks permission to
    /// change timestamps on the underlying file.
    ///
    /// # Cancel safety
    ///
    /// Once the change is handed to the blocking pool it runs to its end even
    /// if the future is dropped, as in Tokio.
    pub async fn set_times(&self, times: FileTimes) -> io::Result<()> {
        self.complete_inflight().await;
        let fd = Arc::clone(&self.fd);
        let times = times.into_std();
        asyncify(move || std_view(&fd).set_times(times)).await
    }

    /// Changes the modification timestamp on the underlying file: `set_times`
    /// with only the modification time set.
    ///
    /// # Cancel safety
    ///
    /// As [`set_times`](Self::set_times).
    pub async fn set_modified(&self, time: std::time::SystemTime) -> io::Result<()> {
        self.set_times(FileTimes::new().set_modified(time)).await
    }

    /// Sets the most one `AsyncRead`/`AsyncWrite` operation moves: a read
    /// returns at most this many bytes, a write takes at most this many.
    /// The default is 256 KiB (Tokio's is 2 MiB). The positional API
    /// (`read_at`, `write_at`, ...) does not use it.
    ///
    /// # Panics
    ///
    /// This function panics if `max_buf_size` is 0.
    #[track_caller]
    pub fn set_max_buf_size(&mut self, max_buf_size: usize) {
        assert!(max_buf_size > 0, "`max_buf_size` must be greater than 0");
        self.max_buf_size = max_buf_size;
    }

    /// The most one `AsyncRead`/`AsyncWrite` operation moves
    /// ([`set_max_buf_size`](Self::set_max_buf_size)).
    pub fn max_buf_size(&self) -> usize {
        self.max_buf_size
    }
}

/// Puts `file`'s position at the cursor's (nothing for a pipe or socket).
fn seek_to(file: &std::fs::File, pos: u64) {
    if let Ok(pos) = libc::off_t::try_from(pos) {
        // SAFETY: `lseek` on a descriptor `file` owns; it reads no memory of
        // ours. An error (ESPIPE) leaves nothing to do.
        unsafe { libc::lseek(file.as_raw_fd(), pos, libc::SEEK_SET) };
    }
}

impl From<std::fs::File> for File {
    fn from(file: std::fs::File) -> File {
        File::from_std(file)
    }
}

impl From<OwnedFd> for File {
    fn from(fd: OwnedFd) -> File {
        File::from_std(std::fs::File::from(fd))
    }
}

impl FromRawFd for File {
    unsafe fn from_raw_fd(fd: RawFd) -> File {
        // SAFETY: the caller keeps `std::fs::File::from_raw_fd`'s contract:
        // `fd` is open and owned by nothing else.
        File::from_std(unsafe { std::fs::File::from_raw_fd(fd) })
    }
}

impl AsRawFd for File {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for File {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl fmt::Debug for File {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("shardio::fs::File")
            .field("std", &*std_view(&self.fd))
            .finish()
    }
}
