//! `IORING_OP_READV` / `IORING_OP_WRITEV` at an offset, over several owned
//! buffers.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use io_uring::{opcode, squeue, types};

use super::cvt;
use crate::BufResult;
use crate::buf::{IoBuf, IoBufMut};
use crate::driver::{Cqe, OpKind};

/// The iovecs of an op, on the heap where they stay while it is in flight.
struct IoVecs(Box<[libc::iovec]>);

// SAFETY: the pointers point into buffers owned by the same op, which moves
// between threads with them; only the kernel (or the blocking fallback)
// dereferences them, while the op owns the buffers.
unsafe impl Send for IoVecs {}
// SAFETY: see above; shared references never dereference the pointers.
unsafe impl Sync for IoVecs {}

fn iovecs<B>(bufs: &mut [B], f: impl FnMut(&mut B) -> libc::iovec) -> IoVecs {
    IoVecs(bufs.iter_mut().map(f).collect())
}

/// Marks `n` bytes read as initialized, buffer after buffer.
fn set_init_across<B: IoBufMut>(bufs: &mut [B], mut n: usize) {
    for buf in bufs {
        let take = n.min(buf.bytes_total());
        // SAFETY: the kernel filled the first `take` bytes of this buffer.
        unsafe { buf.set_init(take) };
        n -= take;
        if n == 0 {
            break;
        }
    }
}

pub(crate) struct ReadvAt<B> {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) bufs: Vec<B>,
    pub(crate) pos: u64,
    iov: IoVecs,
}

impl<B: IoBufMut> ReadvAt<B> {
    pub(crate) fn new(fd: Arc<OwnedFd>, mut bufs: Vec<B>, pos: u64) -> Self {
        let iov = iovecs(&mut bufs, |b| libc::iovec {
            iov_base: b.stable_mut_ptr().cast(),
            iov_len: b.bytes_total(),
        });
        ReadvAt { fd, bufs, pos, iov }
    }
}

// SAFETY: the SQE points at the boxed iovecs, which point into the buffers'
// stable memory (`IoBufMut`); all owned by `self`, none moved by moving it.
// The iovecs are only written here, in `new`, so they are not `Sync`-shared.
unsafe impl<B: IoBufMut> OpKind for ReadvAt<B> {
    type Output = BufResult<usize, Vec<B>>;
    const OPCODE: u8 = opcode::Readv::CODE;
    const STORAGE: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::Readv::new(
            types::Fd(self.fd.as_raw_fd()),
            self.iov.0.as_ptr(),
            self.iov.0.len() as u32,
        )
        .offset(self.pos)
        .build()
    }

    fn complete(mut self, cqe: Cqe) -> Self::Output {
        let res = cqe.into_result().map(|n| n as usize);
        if let Ok(n) = res {
            set_init_across(&mut self.bufs, n);
        }
        (res, self.bufs)
    }

    fn blocking(mut self) -> Self::Output {
        // SAFETY: the iovecs describe writable memory of the buffers.
        let res = cvt(unsafe {
            libc::preadv(
                self.fd.as_raw_fd(),
                self.iov.0.as_ptr(),
                self.iov.0.len() as libc::c_int,
                self.pos as libc::off_t,
            )
        });
        if let Ok(n) = res {
            set_init_across(&mut self.bufs, n);
        }
        (res, self.bufs)
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.bufs)
    }
}

pub(crate) struct WritevAt<B> {
    pub(crate) fd: Arc<OwnedFd>,
    pub(crate) bufs: Vec<B>,
    pub(crate) pos: u64,
    iov: IoVecs,
}

impl<B: IoBuf> WritevAt<B> {
    pub(crate) fn new(fd: Arc<OwnedFd>, mut bufs: Vec<B>, pos: u64) -> Self {
        let iov = iovecs(&mut bufs, |b| libc::iovec {
            iov_base: b.stable_ptr().cast_mut().cast(),
            iov_len: b.bytes_init(),
        });
        WritevAt { fd, bufs, pos, iov }
    }
}

// SAFETY: as for `ReadvAt`, with the initialized bytes of `IoBuf`s.
unsafe impl<B: IoBuf> OpKind for WritevAt<B> {
    type Output = BufResult<usize, Vec<B>>;
    const OPCODE: u8 = opcode::Writev::CODE;
    const STORAGE: bool = true;

    fn sqe(&mut self) -> squeue::Entry {
        opcode::Writev::new(
            types::Fd(self.fd.as_raw_fd()),
            self.iov.0.as_ptr(),
            self.iov.0.len() as u32,
        )
        .offset(self.pos)
        .build()
    }

    fn complete(self, cqe: Cqe) -> Self::Output {
        (cqe.into_result().map(|n| n as usize), self.bufs)
    }

    fn blocking(self) -> Self::Output {
        // SAFETY: the iovecs describe initialized memory of the buffers.
        let res = cvt(unsafe {
            libc::pwritev(
                self.fd.as_raw_fd(),
                self.iov.0.as_ptr(),
                self.iov.0.len() as libc::c_int,
                self.pos as libc::off_t,
            )
        });
        (res, self.bufs)
    }

    fn fail(self, err: io::Error) -> Self::Output {
        (Err(err), self.bufs)
    }
}
