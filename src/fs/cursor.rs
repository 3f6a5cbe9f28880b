//! `AsyncRead`, `AsyncWrite` and `AsyncSeek` for [`File`], with Tokio's
//! semantics: a cursor position, one operation in flight, a write accepted
//! once submitted (its error reported by the next call or `poll_flush`), a
//! seek waiting for what is in flight.

use std::future::Future;
use std::io::{self, SeekFrom};
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite, ReadBuf};

use super::File;
use super::cursor_state::{Cursor, Inflight};
use crate::driver::Op;
use crate::ops::read_at::ReadAt;
use crate::ops::read_cached::{Cached, read_cached};
use crate::ops::write_at::WriteAt;
use crate::sched::{Dir, Hold};

impl File {
    /// Waits for the cursor's operation in flight (a read, or a write
    /// `poll_write` already reported done) to finish, as Tokio's `File`
    /// does before `sync_all`, `set_len`, `set_times`, `try_clone` and
    /// `into_std`: a write's error stays for the cursor's next call.
    pub(super) async fn complete_inflight(&self) {
        std::future::poll_fn(|cx| poll_inflight(&self.fd, &mut self.cursor.lock(), cx)).await
    }
}

/// Finishes the operation in flight. A finished read leaves its bytes in
/// `pending`; a finished write records its error, if any.
pub(super) fn poll_inflight(
    fd: &Arc<OwnedFd>,
    cursor: &mut Cursor,
    cx: &mut Context<'_>,
) -> Poll<()> {
    while let Some(op) = cursor.inflight.as_mut() {
        match op {
            Inflight::AdmitRead(admit, _, _) => {
                drop(ready!(Pin::new(admit).poll(cx)));
                let Some(Inflight::AdmitRead(_, buf, pos)) = cursor.inflight.take() else {
                    continue;
                };
                let fd = Arc::clone(fd);
                cursor.inflight = Some(Inflight::Read(Op::new(ReadAt::new(fd, buf, pos))));
            }
            Inflight::Read(op) => {
                let (res, buf) = ready!(Pin::new(op).poll(cx));
                cursor.inflight = None;
                match res {
                    Ok(_) => cursor.pending = Some((buf, 0)),
                    Err(e) => cursor.error = Some(e),
                }
            }
            Inflight::Write(op, at, len) => {
                let (at, len) = (*at, *len);
                let (res, mut buf) = ready!(Pin::new(op).poll(cx));
                cursor.inflight = None;
                match res {
                    Ok(n) if n < len && n > 0 => {
                        // Short write: send the rest before anything else.
                        buf.drain(..n);
                        let fd = Arc::clone(fd);
                        let rest = buf.len();
                        cursor.inflight = Some(Inflight::Write(
                            Op::new(WriteAt::new(fd, buf, at + n as u64)),
                            at + n as u64,
                            rest,
                        ));
                    }
                    Ok(0) if len > 0 => {
                        cursor.error = Some(io::ErrorKind::WriteZero.into());
                    }
                    Ok(_) => cursor.spare = Some(buf),
                    Err(e) => cursor.error = Some(e),
                }
            }
        }
    }
    Poll::Ready(())
}

impl Cursor {
    fn take_error(&mut self) -> io::Result<()> {
        self.error.take().map_or(Ok(()), Err)
    }

    fn buffer(&mut self, len: usize) -> Vec<u8> {
        let mut buf = self.spare.take().unwrap_or_default();
        buf.clear();
        buf.reserve(len);
        buf
    }
}

/// The cursor copies through unaligned internal buffers.
fn no_cursor_on_direct(file: &File) -> io::Result<()> {
    match file.direct {
        Some(align) => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "shardio: AsyncRead/AsyncWrite on an O_DIRECT file is not supported; use \
                 read_at/write_at with File::aligned_buf ({align}-byte alignment)"
            ),
        )),
        None => Ok(()),
    }
}

impl AsyncRead for File {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        dst: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        no_cursor_on_direct(this)?;
        let max = this.max_buf_size;
        let cursor = this.cursor.get_mut();
        // A write that was never accepted is withdrawn.
        cursor.write_admit = None;
        loop {
            if let Some((data, off)) = &mut cursor.pending {
                let n = (data.len() - *off).min(dst.remaining()).min(max);
                dst.put_slice(&data[*off..*off + n]);
                *off += n;
                cursor.pos += n as u64;
                if *off == data.len() {
                    let (data, _) = cursor.pending.take().expect("pending");
                    cursor.spare = Some(data);
                }
                return Poll::Ready(Ok(()));
            }
            if cursor.inflight.is_some() {
                ready!(poll_inflight(&this.fd, cursor, cx));
                cursor.take_error()?;
                if cursor.pending.as_ref().is_some_and(|(d, _)| d.is_empty()) {
                    cursor.pending = None;
                    return Poll::Ready(Ok(())); // end of file
                }
                continue;
            }
            cursor.take_error()?;
            if dst.remaining() == 0 {
                return Poll::Ready(Ok(()));
            }
            let mut buf = cursor.buffer(dst.remaining().clamp(4096.min(max), max));
            let pos = cursor.pos;
            if this.inline_reads.load(Ordering::Relaxed) {
                // Inline reads spend Tokio's cooperative budget (see
                // `File::read_at`).
                let coop = match tokio::task::coop::poll_proceed(cx) {
                    Poll::Ready(coop) => coop,
                    Poll::Pending => {
                        cursor.spare = Some(buf);
                        return Poll::Pending;
                    }
                };
                coop.made_progress();
                match read_cached(&this.fd, &mut buf, pos) {
                    Cached::Done(Ok(0)) => return Poll::Ready(Ok(())),
                    Cached::Done(Ok(_)) => {
                        cursor.pending = Some((buf, 0));
                        continue;
                    }
                    Cached::Done(Err(e)) => return Poll::Ready(Err(e)),
                    Cached::Miss => {}
                    Cached::Unsupported => this.inline_reads.store(false, Ordering::Relaxed),
                }
            }
            let fd = Arc::clone(&this.fd);
            cursor.inflight = Some(
                match this
                    .sched
                    .admit_file(&*fd, Dir::Read, buf.capacity(), Hold::Instant)
                {
                    Some(admit) => Inflight::AdmitRead(admit, buf, pos),
                    None => Inflight::Read(Op::new(ReadAt::new(fd, buf, pos))),
                },
            );
        }
    }
}

impl File {
    /// `poll_write` and `poll_write_vectored`: accepts up to
    /// `max_buf_size` bytes of `srcs`, in order, as one write at the
    /// cursor (Tokio's `File` gathers vectored writes the same way).
    fn poll_write_from<B: std::ops::Deref<Target = [u8]>>(
        &mut self,
        cx: &mut Context<'_>,
        srcs: &[B],
    ) -> Poll<io::Result<usize>> {
        let this = self;
        no_cursor_on_direct(this)?;
        let cursor = this.cursor.get_mut();
        ready!(poll_inflight(&this.fd, cursor, cx));
        cursor.take_error()?;
        // Bytes read ahead but not handed out are given back: the write
        // goes at the logical position.
        if let Some((data, _)) = cursor.pending.take() {
            cursor.spare = Some(data);
        }
        let total: usize = srcs.iter().map(|b| b.len()).sum();
        if total == 0 {
            return Poll::Ready(Ok(0));
        }
        let n = total.min(this.max_buf_size);
        if cursor.write_admit.is_none() {
            cursor.write_admit = this
                .sched
                .admit_file(&*this.fd, Dir::Write, n, Hold::Instant);
        }
        if let Some(admit) = &mut cursor.write_admit {
            // Nothing is accepted until the disk's queue dispatches the
            // write (the bytes stay with the caller); the permit is then
            // returned at once, since an accepted write may not be polled
            // again for a long time.
            drop(ready!(Pin::new(admit).poll(cx)));
            cursor.write_admit = None;
        }
        let mut buf = cursor.buffer(n);
        for src in srcs {
            let take = (n - buf.len()).min(src.len());
            buf.extend_from_slice(&src[..take]);
            if buf.len() == n {
                break;
            }
        }
        let at = cursor.pos;
        let fd = Arc::clone(&this.fd);
        let mut op = Op::new(WriteAt::new(fd, buf, at));
        // Submit now; report it done: the next call learns how it ended.
        match Pin::new(&mut op).poll(cx) {
            Poll::Ready((Ok(written), buf)) if written == n => cursor.spare = Some(buf),
            Poll::Ready((Ok(written), mut buf)) if written > 0 => {
                buf.drain(..written);
                let rest = buf.len();
                let fd = Arc::clone(&this.fd);
                let at2 = at + written as u64;
                cursor.inflight = Some(Inflight::Write(
                    Op::new(WriteAt::new(fd, buf, at2)),
                    at2,
                    rest,
                ));
            }
            Poll::Ready((Ok(_), _)) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
            Poll::Ready((Err(e), buf)) => {
                cursor.spare = Some(buf);
                return Poll::Ready(Err(e));
            }
            Poll::Pending => cursor.inflight = Some(Inflight::Write(op, at, n)),
        }
        cursor.pos += n as u64;
        Poll::Ready(Ok(n))
    }
}

impl AsyncWrite for File {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        src: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.get_mut()
            .poll_write_from(cx, std::slice::from_ref(&src))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.get_mut().poll_write_from(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let cursor = this.cursor.get_mut();
        ready!(poll_inflight(&this.fd, cursor, cx));
        Poll::Ready(cursor.take_error())
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

impl AsyncSeek for File {
    fn start_seek(self: Pin<&mut Self>, position: SeekFrom) -> io::Result<()> {
        let cursor = self.get_mut().cursor.get_mut();
        if cursor.seek.is_some() {
            return Err(io::Error::other(
                "shardio: another seek is in progress on this file; finish it with poll_complete",
            ));
        }
        cursor.seek = Some(position);
        Ok(())
    }

    fn poll_complete(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<u64>> {
        let this = self.get_mut();
        let cursor = this.cursor.get_mut();
        cursor.write_admit = None;
        ready!(poll_inflight(&this.fd, cursor, cx));
        // Read-ahead is dropped: the logical position is `pos`.
        if let Some((data, _)) = cursor.pending.take() {
            cursor.spare = Some(data);
        }
        cursor.take_error()?;
        let Some(seek) = cursor.seek.take() else {
            return Poll::Ready(Ok(cursor.pos));
        };
        let (base, delta) = match seek {
            SeekFrom::Start(n) => (n, 0),
            SeekFrom::Current(d) => (cursor.pos, d),
            SeekFrom::End(d) => (super::blocking::std_view(&this.fd).metadata()?.len(), d),
        };
        let target = base.checked_add_signed(delta).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "shardio: invalid seek to a negative or overflowing position",
            )
        })?;
        cursor.pos = target;
        Poll::Ready(Ok(target))
    }
}
