use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::BufResult;
use crate::buf::{IoBuf, IoBufMut, Window};
use crate::driver::Op;
use crate::ops::fsync::Fsync;
use crate::ops::open::OpenAt;
use crate::ops::read_at::ReadAt;
use crate::ops::read_cached::{Cached, read_cached};
use crate::ops::write_at::WriteAt;
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
    /// State of the `AsyncRead`/`AsyncWrite`/`AsyncSeek` cursor.
    pub(crate) cursor: super::cursor::Cursor,
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
    pub async fn create_new(path: impl AsRef<Path>) -> io::Result<File> {
        let flags = libc::O_RDWR | libc::O_CREAT | libc::O_EXCL;
        Self::open_with(path.as_ref(), flags, 0o666).await
    }

    /// An [`OpenOptions`](super::OpenOptions) to configure and open a file.
    pub fn options() -> super::OpenOptions {
        super::OpenOptions::new()
    }

    /// Truncates or extends the file to `size` bytes (`IORING_OP_FTRUNCATE`).
    ///
    /// # Cancel safety
    ///
    /// If dropped before it completes, the resize may or may not have happened
    /// (see [Cancellation](crate::fs#cancellation)).
    pub async fn set_len(&self, size: u64) -> io::Result<()> {
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

    /// A new `File` for the same open file (`dup`).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: it never waits (`dup` is synchronous), so a dropped future
    /// has done nothing.
    pub async fn try_clone(&self) -> io::Result<File> {
        Ok(File::from_fd(self.fd.try_clone()?))
    }

    /// Turns this into a standard-library file. Operations still in flight
    /// keep using the original descriptor; the returned file is a duplicate.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future drops the `File` it took, as dropping the `File`
    /// would: the descriptor is closed once the operations in flight let go of
    /// it.
    pub async fn into_std(self) -> std::fs::File {
        match Arc::try_unwrap(self.fd) {
            Ok(fd) => std::fs::File::from(fd),
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
        }
    }

    /// Reads at `pos` into several buffers in order (`preadv`): each is
    /// filled from its start up to its capacity before the next; returns
    /// the total read, with the buffers. O_DIRECT alignment is checked per
    /// buffer.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the read; the buffers are dropped with it,
    /// freed only after the kernel let go of them. A read changes nothing, so
    /// no data is lost.
    pub async fn readv_at<B: IoBufMut>(
        &self,
        mut bufs: Vec<B>,
        pos: u64,
    ) -> BufResult<usize, Vec<B>> {
        let mut at = pos;
        for b in bufs.iter_mut() {
            let len = b.bytes_total();
            if let Err(e) = self.check_direct(b.stable_mut_ptr(), len, at) {
                return (Err(e), bufs);
            }
            at += len as u64;
        }
        let len = bufs.iter().map(|b| b.bytes_total()).sum();
        let permit = self.admit(Dir::Read, len).await;
        let fd = Arc::clone(&self.fd);
        Op::new(crate::ops::vectored::ReadvAt::new(fd, bufs, pos))
            .hold(permit)
            .await
    }

    /// Writes the initialized bytes of several buffers in order at `pos`
    /// (`pwritev`); returns the total written (possibly fewer), with them.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the write if it has not happened yet: none,
    /// part or all of the data may have been written. The buffers are freed
    /// only after the kernel let go of them.
    pub async fn writev_at<B: IoBuf>(&self, bufs: Vec<B>, pos: u64) -> BufResult<usize, Vec<B>> {
        let mut at = pos;
        for b in &bufs {
            if let Err(e) = self.check_direct(b.stable_ptr(), b.bytes_init(), at) {
                return (Err(e), bufs);
            }
            at += b.bytes_init() as u64;
        }
        let len = bufs.iter().map(|b| b.bytes_init()).sum();
        let permit = self.admit(Dir::Write, len).await;
        let fd = Arc::clone(&self.fd);
        Op::new(crate::ops::vectored::WritevAt::new(fd, bufs, pos))
            .hold(permit)
            .await
    }

    /// Reads exactly `buf.bytes_total()` bytes at `pos`, or fails with
    /// `UnexpectedEof` (the bytes read so far stay in `buf`).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the read in flight; `buf`, with the bytes
    /// read into it so far, is dropped with it and freed only after the kernel
    /// let go of it. A read changes nothing, so no data is lost.
    pub async fn read_exact_at<B: IoBufMut>(&self, buf: B, pos: u64) -> BufResult<(), B> {
        let total = buf.bytes_total();
        let eof = || io::Error::new(io::ErrorKind::UnexpectedEof, "failed to fill whole buffer");
        all_at(buf, total, pos, eof, |rest, at| self.read_at(rest, at)).await
    }

    /// Writes every initialized byte of `buf` at `pos`, continuing after
    /// short writes.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if dropped before completing, a prefix of `buf` (none
    /// of it, part or all) may have been written, including by a write already
    /// submitted, which the kernel may finish after the drop (on the fallback
    /// path it always does). `buf` is freed only after the kernel let go of it.
    pub async fn write_all_at<B: IoBuf>(&self, buf: B, pos: u64) -> BufResult<(), B> {
        let total = buf.bytes_init();
        let zero = || io::Error::new(io::ErrorKind::WriteZero, "failed to write whole buffer");
        all_at(buf, total, pos, zero, |rest, at| self.write_at(rest, at)).await
    }

    /// Wraps an open `std::fs::File` (or any fd converted into one, such as a
    /// pipe end; on pipes and sockets the position is ignored).
    pub fn from_std(file: std::fs::File) -> File {
        File::from_fd(OwnedFd::from(file))
    }

    pub(crate) fn from_fd(fd: OwnedFd) -> File {
        File {
            fd: Arc::new(fd),
            inline_reads: AtomicBool::new(true),
            cursor: Default::default(),
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
    fn check_direct(&self, ptr: *const u8, len: usize, pos: u64) -> io::Result<()> {
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

    /// Reads up to `buf.bytes_total()` bytes at offset `pos` into the start
    /// of `buf` and returns how many were read (0 at end of file) together
    /// with the buffer. A `Vec`'s length becomes at least the count read.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the read; the buffer is freed only after
    /// the kernel let go of it.
    ///
    /// Bytes already in the page cache are read at once on the calling
    /// thread (`preadv2` with `RWF_NOWAIT`, which never waits for the
    /// device; it may return fewer bytes than asked, as any read may); the
    /// rest goes through io_uring.
    pub async fn read_at<B: IoBufMut>(&self, mut buf: B, pos: u64) -> BufResult<usize, B> {
        let len = buf.bytes_total();
        if let Err(e) = self.check_direct(buf.stable_mut_ptr(), len, pos) {
            return (Err(e), buf);
        }
        if self.inline_reads.load(Ordering::Relaxed) {
            // A read served inline never waits, so it spends Tokio's
            // cooperative budget: a task reading cached data in a loop
            // yields now and then, and timers and other tasks on its worker
            // still run (as they do around Tokio's own I/O).
            tokio::task::coop::consume_budget().await;
            match read_cached(&self.fd, &mut buf, pos) {
                Cached::Done(res) => return (res, buf),
                Cached::Miss => {}
                Cached::Unsupported => self.inline_reads.store(false, Ordering::Relaxed),
            }
        }
        if let Some(max) = self.split_len(Dir::Read, buf.bytes_total()) {
            return self.read_split(buf, pos, max).await;
        }
        let permit = self.admit(Dir::Read, buf.bytes_total()).await;
        let fd = Arc::clone(&self.fd);
        Op::new(ReadAt::new(fd, buf, pos)).hold(permit).await
    }

    /// Writes the initialized bytes of `buf` at offset `pos` and returns how
    /// many were written (possibly fewer) together with the buffer.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the write if it has not happened yet: none,
    /// part (a write the throttle splits runs part by part) or all of the data
    /// may have been written.
    pub async fn write_at<B: IoBuf>(&self, buf: B, pos: u64) -> BufResult<usize, B> {
        if let Err(e) = self.check_direct(buf.stable_ptr(), buf.bytes_init(), pos) {
            return (Err(e), buf);
        }
        if let Some(max) = self.split_len(Dir::Write, buf.bytes_init()) {
            return self.write_split(buf, pos, max).await;
        }
        let permit = self.admit(Dir::Write, buf.bytes_init()).await;
        let fd = Arc::clone(&self.fd);
        Op::new(WriteAt::new(fd, buf, pos)).hold(permit).await
    }

    /// Reads up to the buffer's capacity at `pos` into a registered buffer
    /// from a [`FixedBufPool`](crate::buf::FixedBufPool)
    /// (`IORING_OP_READ_FIXED`: the kernel does not pin its pages again);
    /// returns the count read (0 at end of file), which becomes the
    /// buffer's length, with the buffer. No page-cache shortcut: meant for
    /// O_DIRECT files, where it saves CPU per read.
    ///
    /// # Cancel safety
    ///
    /// As [`read_at`](Self::read_at): dropping the future cancels the read
    /// and the buffer returns to its pool only after the kernel let go.
    pub async fn read_fixed_at(
        &self,
        buf: crate::buf::FixedBuf,
        pos: u64,
    ) -> BufResult<usize, crate::buf::FixedBuf> {
        let mut buf = buf;
        let len = buf.bytes_total();
        if let Err(e) = self.check_direct(buf.stable_mut_ptr(), len, pos) {
            return (Err(e), buf);
        }
        let permit = self.admit(Dir::Read, buf.bytes_total()).await;
        let fd = Arc::clone(&self.fd);
        Op::new(crate::ops::fixed::ReadFixedAt(ReadAt::new(fd, buf, pos)))
            .hold(permit)
            .await
    }

    /// Writes the buffer's bytes (its length) at `pos` from a registered
    /// buffer (`IORING_OP_WRITE_FIXED`); returns the count written
    /// (possibly fewer) with the buffer.
    ///
    /// # Cancel safety
    ///
    /// As [`write_at`](Self::write_at).
    pub async fn write_fixed_at(
        &self,
        buf: crate::buf::FixedBuf,
        pos: u64,
    ) -> BufResult<usize, crate::buf::FixedBuf> {
        if let Err(e) = self.check_direct(buf.stable_ptr(), buf.bytes_init(), pos) {
            return (Err(e), buf);
        }
        let permit = self.admit(Dir::Write, buf.bytes_init()).await;
        let fd = Arc::clone(&self.fd);
        Op::new(crate::ops::fixed::WriteFixedAt(WriteAt::new(fd, buf, pos)))
            .hold(permit)
            .await
    }

    /// Flushes data and metadata to the device (`fsync`).
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

    /// The part size to split a request of `len` bytes into, when it is
    /// larger than the disk's throttle takes at once (a multiple of the
    /// O_DIRECT alignment).
    fn split_len(&self, dir: Dir, len: usize) -> Option<usize> {
        let max = self.sched.split_len(&*self.fd, dir)?;
        let align = self.direct.unwrap_or(1) as u64;
        let max = (max / align * align).max(align);
        (len as u64 > max).then_some(max as usize)
    }

    /// A read the throttle splits: the parts in order, each queued on its
    /// own; stops at the first short part (end of file) and reports what
    /// was read, or the error if nothing was.
    async fn read_split<B: IoBufMut>(&self, buf: B, pos: u64, max: usize) -> BufResult<usize, B> {
        let total = buf.bytes_total();
        self.split_io(buf, total, pos, max, Dir::Read, |fd, buf, pos| {
            ReadAt::new(fd, buf, pos)
        })
        .await
    }

    /// A write the throttle splits, part by part; stops at a short part and
    /// reports what was written, or the error if nothing was.
    async fn write_split<B: IoBuf>(&self, buf: B, pos: u64, max: usize) -> BufResult<usize, B> {
        let total = buf.bytes_init();
        self.split_io(buf, total, pos, max, Dir::Write, |fd, buf, pos| {
            WriteAt::new(fd, buf, pos)
        })
        .await
    }

    /// Runs `total` bytes of `buf` from `pos` as parts of at most `max`
    /// bytes, each admitted on its own and run as the op `part` builds over
    /// a `Window` of `buf`; recombines the results.
    async fn split_io<B, T>(
        &self,
        mut buf: B,
        total: usize,
        pos: u64,
        max: usize,
        dir: Dir,
        part: impl Fn(Arc<OwnedFd>, Window<B>, u64) -> T,
    ) -> BufResult<usize, B>
    where
        B: IoBuf,
        T: crate::driver::OpKind<Output = BufResult<usize, Window<B>>>,
    {
        let mut done = 0;
        for (start, len) in crate::sched::split::split(0, total as u64, max as u64) {
            let (start, len) = (start as usize, len as usize);
            let permit = self.admit(dir, len).await;
            let window = Window {
                buf,
                start,
                end: start + len,
            };
            // The permit goes with the operation: dropped in flight, the
            // device stays counted busy until the kernel is done.
            let (res, window) = Op::new(part(Arc::clone(&self.fd), window, pos + start as u64))
                .hold(permit)
                .await;
            buf = window.buf;
            match res {
                Ok(n) => {
                    done += n;
                    if n < len {
                        break;
                    }
                }
                Err(e) if done == 0 => return (Err(e), buf),
                Err(_) => break,
            }
        }
        (Ok(done), buf)
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

/// The loop of `read_exact_at` and `write_all_at`: runs `op` on the rest
/// of `buf` (from its first byte not yet moved, at the matching offset from
/// `pos`) until `total` bytes moved. A call that moves nothing ends it with
/// `zero()`; `Interrupted` is retried; any other error ends it, the bytes
/// moved before staying moved.
async fn all_at<B, F>(
    buf: B,
    total: usize,
    pos: u64,
    zero: impl FnOnce() -> io::Error,
    mut op: impl FnMut(crate::buf::Tail<B>, u64) -> F,
) -> BufResult<(), B>
where
    F: Future<Output = BufResult<usize, crate::buf::Tail<B>>>,
{
    let mut rest = crate::buf::Tail { buf, start: 0 };
    while rest.start < total {
        let at = pos + rest.start as u64;
        let (res, r) = op(rest, at).await;
        rest = r;
        match res {
            Ok(0) => return (Err(zero()), rest.buf),
            Ok(n) => rest.start += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (Err(e), rest.buf),
        }
    }
    (Ok(()), rest.buf)
}

impl From<std::fs::File> for File {
    fn from(file: std::fs::File) -> File {
        File::from_std(file)
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
        f.debug_struct("File")
            .field("fd", &self.fd.as_raw_fd())
            .finish()
    }
}
