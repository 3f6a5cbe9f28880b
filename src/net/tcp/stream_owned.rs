//! Completion-native I/O on `TcpStream`: buffers passed by value.
//!
//! These are not named `read`/`write_all` because inherent methods would
//! shadow `AsyncReadExt::read` and `AsyncWriteExt::write_all`, breaking code
//! written for Tokio's `TcpStream`.

use std::future::poll_fn;
use std::io;
use std::os::fd::AsFd;
use std::sync::Arc;

use super::stream::{Inner, TcpStream};
use crate::BufResult;
use crate::buf::{IoBuf, IoBufMut};
use crate::driver::{Multishot, Op};
use crate::ops::send::Send;
use crate::ops::send_zc::{SendZc, ZcEvent};
use crate::sched::{Dir, Hold, dispatched};

impl TcpStream {
    /// Reads into the start of `buf` (up to its capacity) and returns how
    /// many bytes arrived, 0 at end of stream, together with the buffer.
    ///
    /// The bytes come out of the kernel-filled receive buffers `AsyncRead`
    /// uses, so this mixes freely with `AsyncRead` calls.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped, no received byte is lost.
    pub async fn read_owned<B: IoBufMut>(&self, mut buf: B) -> BufResult<usize, B> {
        let total = buf.bytes_total();
        let ptr = buf.stable_mut_ptr();
        let res = match &self.inner {
            Inner::Uring(s) => {
                // SAFETY: `ptr` is valid for `total` writable bytes
                // (`IoBufMut`), viewed as possibly uninitialized, and used
                // only within this call while `buf` is held here.
                let dst = unsafe { std::slice::from_raw_parts_mut(ptr.cast(), total) };
                poll_fn(|cx| s.poll_read_into(cx, dst)).await
            }
            Inner::Epoll(s) => {
                // Zero the destination so it can be lent as `&mut [u8]`
                // (the fallback path; io_uring copies into it directly).
                // SAFETY: `total` writable bytes at `ptr` (`IoBufMut`).
                unsafe { std::ptr::write_bytes(ptr, 0, total) };
                // SAFETY: the bytes were just initialized.
                let dst = unsafe { std::slice::from_raw_parts_mut(ptr, total) };
                loop {
                    if let Err(e) = s.readable().await {
                        break Err(e);
                    }
                    match s.try_read(dst) {
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                        other => break other,
                    }
                }
            }
        };
        if let Ok(n) = res {
            // SAFETY: `n` bytes at the start of `buf` were written above.
            unsafe { buf.set_init(n) };
        }
        (res, buf)
    }

    /// Writes all initialized bytes of `buf` and returns the buffer. On
    /// io_uring the kernel sends straight from `buf` (no copy); a write in
    /// flight from `AsyncWrite` completes first, so the bytes stay in order.
    ///
    /// Do not run it concurrently with other writes on the same stream.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe: if the future is dropped, an unknown prefix of
    /// `buf` may have been sent (the buffer is kept alive until the kernel
    /// let go of it).
    pub async fn write_all_owned<B: IoBuf>(&self, buf: B) -> BufResult<(), B> {
        match &self.inner {
            Inner::Uring(s) => {
                let admit = s.sched.admit_net(
                    s.fd().as_fd(),
                    Dir::Write,
                    buf.bytes_init(),
                    Hold::UntilDone,
                );
                let permit = dispatched(admit).await;
                let fd = Arc::clone(s.fd());
                // MSG_WAITALL: the kernel retries short sends itself. The
                // permit is held until the send is over for the kernel,
                // even if this future is dropped first.
                let (res, buf) = Op::new(Send {
                    fd,
                    buf,
                    flags: libc::MSG_NOSIGNAL | libc::MSG_WAITALL,
                })
                .hold(permit)
                .await;
                let res = match res {
                    Ok(n) if n < buf.bytes_init() => Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        format!("the connection accepted {n} of {} bytes", buf.bytes_init()),
                    )),
                    Ok(_) => Ok(()),
                    Err(e) => Err(e),
                };
                (res, buf)
            }
            Inner::Epoll(s) => {
                // SAFETY: the first `bytes_init` bytes are initialized (`IoBuf`).
                let bytes =
                    unsafe { std::slice::from_raw_parts(buf.stable_ptr(), buf.bytes_init()) };
                let mut sent = 0;
                while sent < bytes.len() {
                    if let Err(e) = s.writable().await {
                        return (Err(e), buf);
                    }
                    match s.try_write(&bytes[sent..]) {
                        Ok(n) => sent += n,
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                        Err(e) => return (Err(e), buf),
                    }
                }
                (Ok(()), buf)
            }
        }
    }

    /// Writes all initialized bytes of `buf` with a zero-copy send
    /// (`IORING_OP_SEND_ZC`): the kernel transmits straight from `buf` and
    /// returns it only once the network stack no longer reads it. That pays
    /// off for large writes (tens of KiB and up) on a real NIC; on loopback
    /// the kernel copies anyway, and small writes are cheaper with
    /// [`write_all_owned`](TcpStream::write_all_owned), which this falls back
    /// to where zero-copy sends are unavailable.
    ///
    /// Do not run it concurrently with other writes on the same stream.
    ///
    /// # Cancel safety
    ///
    /// Not cancel safe (see [`write_all_owned`](TcpStream::write_all_owned)).
    pub async fn write_all_zc<B: IoBuf>(&self, buf: B) -> BufResult<(), B> {
        use futures::StreamExt;

        let Inner::Uring(s) = &self.inner else {
            return self.write_all_owned(buf).await;
        };
        let expected = buf.bytes_init();
        let admit = s
            .sched
            .admit_net(s.fd().as_fd(), Dir::Write, expected, Hold::UntilDone);
        let permit = dispatched(admit).await;
        // The permit is held until the kernel's last CQE for the send, even
        // if this future is dropped first.
        let mut sends = Multishot::new(SendZc {
            fd: Arc::clone(s.fd()),
            buf,
        })
        .hold(permit);
        let mut result: Option<io::Result<usize>> = None;
        let mut unsupported = false;
        while let Some(event) = sends.next().await {
            match event {
                Ok(ZcEvent::Sent(n)) => result = Some(Ok(n)),
                Ok(ZcEvent::Released) => {}
                Err(e)
                    if result.is_none()
                        && matches!(e.raw_os_error(), Some(libc::EINVAL | libc::EOPNOTSUPP)) =>
                {
                    unsupported = true;
                }
                Err(e) if e.kind() == io::ErrorKind::Unsupported => unsupported = true,
                Err(e) => result = Some(Err(e)),
            }
        }
        let Some(data) = sends.into_data() else {
            unreachable!("the send stream ended, so the kernel released the buffer");
        };
        // Dispatched and done (the permit went with the stream): the
        // fallback below is queued on its own.
        let buf = data.into_buf();
        if unsupported {
            return self.write_all_owned(buf).await;
        }
        let res = match result {
            Some(Ok(n)) if n == expected => Ok(()),
            Some(Ok(n)) => Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("the connection accepted {n} of {expected} bytes"),
            )),
            Some(Err(e)) => Err(e),
            None => Err(io::Error::other("zero-copy send ended without a result")),
        };
        (res, buf)
    }
}
