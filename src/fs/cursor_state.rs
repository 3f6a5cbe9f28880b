//! The state of a [`File`](super::File)'s `AsyncRead`/`AsyncWrite`/
//! `AsyncSeek` cursor: its position and the one operation in flight.

use std::io::{self, SeekFrom};

use crate::driver::Op;
use crate::ops::read_at::ReadAt;
use crate::ops::write_at::WriteAt;
use crate::sched::Admit;

/// Largest read or write one cursor operation moves, unless
/// [`File::set_max_buf_size`](super::File::set_max_buf_size) says otherwise
/// (Tokio's default is 2 MiB; shardio's stays at the size one request
/// through the disk's scheduler is made for).
pub(super) const DEFAULT_MAX_BUF_SIZE: usize = 256 * 1024;

#[derive(Default)]
pub(crate) struct Cursor {
    /// The logical position: where the next read or write happens.
    pub(super) pos: u64,
    pub(super) inflight: Option<Inflight>,
    /// Bytes read at `pos` and not yet handed out, and how far it got.
    pub(super) pending: Option<(Vec<u8>, usize)>,
    pub(super) spare: Option<Vec<u8>>,
    /// An error of an earlier write, for the next call.
    pub(super) error: Option<io::Error>,
    pub(super) seek: Option<SeekFrom>,
    /// A write waiting for the disk's queue; withdrawn by a read or seek.
    pub(super) write_admit: Option<Admit>,
}

pub(super) enum Inflight {
    /// A read into `buf` at `pos`, waiting for the disk's queue to
    /// dispatch it (it then holds nothing there: `Hold::Instant`).
    AdmitRead(Admit, Vec<u8>, u64),
    /// A read at the cursor position.
    Read(Op<ReadAt<Vec<u8>>>),
    /// A write already counted in `pos`, `len` bytes at `at`.
    Write(Op<WriteAt<Vec<u8>>>, u64, usize),
}
