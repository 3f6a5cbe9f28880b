//! Positional I/O on a [`File`]: reads and writes at an offset (plain,
//! vectored, exact, into registered buffers), each through the disk's
//! scheduler, split where one request would exceed what the throttle takes.

use std::future::Future;
use std::io;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::File;
use crate::BufResult;
use crate::buf::{IoBuf, IoBufMut, Window};
use crate::driver::Op;
use crate::ops::read_at::ReadAt;
use crate::ops::read_cached::{Cached, read_cached};
use crate::ops::write_at::WriteAt;
use crate::sched::Dir;

impl File {
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
