use std::io;
use std::os::fd::OwnedFd;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use crate::driver::Op;
use crate::ops::fsync::Fsync;
use crate::ops::open::OpenAt;
use crate::sched::{Dir, Hold, PriorityClass};

/// An open file whose reads and writes go through io_uring.
///
/// Positional methods take `&self`: put the `File` in an `Arc` and many tasks
/// can read and write it at once, each operation independent of the others.
///
/// # Buffer ownership and cancellation
///
/// `read_at` and `write_at` take the buffer by value and return it with the
/// result, because the kernel uses it until the operation completes. If the
/// future is dropped first, shardio asks the kernel to cancel the operation
/// and keeps the buffer (and the file descriptor) alive until the kernel is
/// done; it is freed then. Dropping is therefore safe at any point, but a
/// dropped write may or may not have happened.
///
/// ```no_run
/// use shardio::fs::File;
///
/// # async fn demo() -> std::io::Result<()> {
/// let file = File::create("/tmp/shardio-example").await?;
/// let (res, buf) = file.write_at(vec![7u8; 4096], 0).await;
/// assert_eq!(res?, 4096);
/// file.sync_all().await?;
///
/// let file = File::open("/tmp/shardio-example").await?;
/// let (res, buf) = file.read_at(buf, 0).await;
/// assert_eq!(res?, 4096);
/// # drop(buf);
/// # Ok(())
/// # }
/// ```
pub struct File {
    /// Shared with operations in flight, so the fd outlives them.
    pub(crate) fd: Arc<OwnedFd>,
    /// Whether reads first try the page cache inline (`RWF_NOWAIT`);
    /// cleared for files that refuse it (pipes, some filesystems).
    pub(crate) inline_reads: AtomicBool,
    /// State of the `AsyncRead`/`AsyncWrite`/`AsyncSeek` cursor: used
    /// through `&mut` by the cursor (no locking), locked by the `&self`
    /// methods that first wait for its operation in flight.
    pub(crate) cursor: crate::sync::Mutex<super::cursor_state::Cursor>,
    /// The most one cursor read or write moves ([`File::set_max_buf_size`]).
    pub(crate) max_buf_size: usize,
    /// The O_DIRECT alignment, for a file opened for direct I/O.
    pub(crate) direct: Option<usize>,
    /// Its priority class and disk, for the scheduler.
    pub(crate) sched: crate::sched::Target,
}

impl File {
    /// Opens a file for reading (like `std::fs::File::open`).
    ///
    /// # Errors
    ///
    /// As `open(2)`: `NotFound`, `PermissionDenied`, ...
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping the future cancels the open, and a file the kernel
    /// opens anyway is closed.
    pub async fn open(path: impl AsRef<Path>) -> io::Result<File> {
        Self::open_with(path.as_ref(), libc::O_RDONLY, 0).await
    }

    /// Opens a file for writing, creating it or truncating it (like
    /// `std::fs::File::create`). Mode `0o666` before the umask.
    ///
    /// # Errors
    ///
    /// As `open(2)`: `NotFound` for a missing directory, `PermissionDenied`, ...
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the open, and a file the kernel opens anyway
    /// is closed; but the open may still have created or truncated the file.
    pub async fn create(path: impl AsRef<Path>) -> io::Result<File> {
        let flags = libc::O_RDWR | libc::O_CREAT | libc::O_TRUNC;
        Self::open_with(path.as_ref(), flags, 0o666).await
    }

    async fn open_with(path: &Path, flags: libc::c_int, mode: libc::mode_t) -> io::Result<File> {
        let fd = Op::new(OpenAt::new(path, flags, mode)?).await?;
        Ok(File::from_fd(fd))
    }

    /// Creates a new file for reading and writing, failing with
    /// `AlreadyExists` if it exists.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the open, and a file the kernel opens anyway
    /// is closed; but the open may still have created the file.
    pub async fn create_new<P: AsRef<Path>>(path: P) -> io::Result<File> {
        let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
        Self::open_with(path.as_ref(), flags, 0o666).await
    }

    /// Truncates or extends the file to `size` bytes (`IORING_OP_FTRUNCATE`),
    /// after the cursor's write in flight, if any, as in Tokio.
    ///
    /// # Cancel safety
    ///
    /// If dropped before it completes, the resize may or may not have happened
    /// (see [Cancellation](crate::fs#cancellation)).
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
        self.complete_inflight().await;
        let fd = Arc::clone(&self.fd);
        Op::new(crate::ops::ftruncate::Ftruncate { fd, len: size }).await
    }

    /// Metadata of the open file (`fstat` on the blocking pool, as Tokio:
    /// `std::fs::Metadata` cannot be built from io_uring's `statx`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it changes nothing. A dropped call may still finish on the
    /// blocking pool, its result discarded.
    pub async fn metadata(&self) -> io::Result<std::fs::Metadata> {
        let fd = Arc::clone(&self.fd);
        super::blocking::asyncify(move || super::blocking::std_view(&fd).metadata()).await
    }

    /// Changes the file's permissions (`fchmod`).
    ///
    /// # Cancel safety
    ///
    /// Once polled, the change runs on the blocking pool to its end even if the
    /// future is dropped, as in Tokio.
    pub async fn set_permissions(&self, perm: std::fs::Permissions) -> io::Result<()> {
        let fd = Arc::clone(&self.fd);
        super::blocking::asyncify(move || super::blocking::std_view(&fd).set_permissions(perm))
            .await
    }

    /// A new `File` for the same open file (`dup`), with the same
    /// [`max_buf_size`](Self::max_buf_size). Waits for the cursor's
    /// operation in flight first, as in Tokio.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped future has at most waited for the operation in
    /// flight; `dup` itself is synchronous.
    pub async fn try_clone(&self) -> io::Result<File> {
        self.complete_inflight().await;
        let mut file = File::from_fd(self.fd.try_clone()?);
        file.max_buf_size = self.max_buf_size;
        Ok(file)
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> File {
        File {
            fd: Arc::new(fd),
            inline_reads: AtomicBool::new(true),
            cursor: Default::default(),
            max_buf_size: super::cursor_state::DEFAULT_MAX_BUF_SIZE,
            direct: None,
            sched: Default::default(),
        }
    }

    /// A file opened with `O_DIRECT`: no inline page-cache reads (there is
    /// no cache), alignment checked before every transfer.
    pub(crate) fn from_direct_fd(fd: OwnedFd) -> File {
        let align = super::direct::device_alignment(&fd);
        File {
            fd: Arc::new(fd),
            inline_reads: AtomicBool::new(false),
            cursor: Default::default(),
            max_buf_size: super::cursor_state::DEFAULT_MAX_BUF_SIZE,
            direct: Some(align),
            sched: Default::default(),
        }
    }

    /// The alignment direct I/O needs on this file, if it was opened with
    /// [`OpenOptions::direct`](super::OpenOptions::direct) (and the
    /// filesystem supports it); `None` for buffered I/O.
    pub fn direct_alignment(&self) -> Option<usize> {
        self.direct
    }

    /// On an O_DIRECT file, refuses a transfer of `len` bytes at `ptr` to or
    /// from `pos` that the device cannot take, before anything is submitted.
    pub(super) fn check_direct(&self, ptr: *const u8, len: usize, pos: u64) -> io::Result<()> {
        match self.direct {
            Some(align) => super::direct::check(align, ptr, len, pos),
            None => Ok(()),
        }
    }

    /// A zeroed buffer of at least `len` bytes aligned for this file's
    /// direct I/O (4096 for a buffered file). Up to 512 KiB it comes from
    /// shardio's registered arena, so `read_at` / `write_at` with it run as
    /// fixed-buffer operations (see [`AlignedBuf`](crate::buf::AlignedBuf)).
    pub fn aligned_buf(&self, len: usize) -> io::Result<crate::buf::AlignedBuf> {
        crate::buf::AlignedBuf::new(len, self.direct.unwrap_or(4096))
    }

    /// Flushes data and metadata to the device (`fsync`), including what
    /// the cursor (`AsyncWrite`) has written.
    ///
    /// # Cancel safety
    ///
    /// If dropped before it completes, the flush may or may not have happened
    /// (see [Cancellation](crate::fs#cancellation)); call it again to know the
    /// data is on the device.
    pub async fn sync_all(&self) -> io::Result<()> {
        self.fsync(false).await
    }

    /// Flushes data, and metadata only where needed to read it (`fdatasync`).
    ///
    /// # Cancel safety
    ///
    /// As [`sync_all`](Self::sync_all).
    pub async fn sync_data(&self) -> io::Result<()> {
        self.fsync(true).await
    }

    /// `sync_all` or, with `data_only`, `sync_data`: queued as a write of
    /// no bytes.
    async fn fsync(&self, data_only: bool) -> io::Result<()> {
        // A cursor write in flight first, as in Tokio: io_uring does not
        // order an fsync after a write submitted before it.
        self.complete_inflight().await;
        let permit = self.admit(Dir::Write, 0).await;
        let fd = Arc::clone(&self.fd);
        Op::new(Fsync { fd, data_only }).hold(permit).await
    }

    /// Makes `class` this file's priority class: its operations run in it
    /// unless one is [`force`](PriorityClass::force)d into another. Without
    /// it, they run in the class of the future that issues them
    /// ([`PriorityClass::scope`]), else the default class.
    ///
    /// ```no_run
    /// # async fn demo() -> std::io::Result<()> {
    /// use shardio::sched::PriorityClass;
    ///
    /// let wal = shardio::fs::File::create("/tmp/wal").await?;
    /// wal.set_class(&PriorityClass::new("wal", 2000));
    /// # Ok(())
    /// # }
    /// ```
    pub fn set_class(&self, class: &PriorityClass) {
        self.sched.set_class(class);
    }

    /// The class set with [`set_class`](Self::set_class), if any.
    pub fn class(&self) -> Option<PriorityClass> {
        self.sched.class()
    }

    /// Waits for the disk's scheduler to dispatch a request of `bytes`;
    /// `None` (at once) when the scheduler is off.
    pub(crate) async fn admit(&self, dir: Dir, bytes: usize) -> Option<crate::sched::Permit> {
        crate::sched::dispatched(
            self.sched
                .admit_file(&*self.fd, dir, bytes, Hold::UntilDone),
        )
        .await
    }
}
