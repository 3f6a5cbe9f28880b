//! Buffers that can be lent to the kernel.
//!
//! An io_uring operation hands the kernel a pointer; the kernel may read or
//! write through it until the operation's completion arrives, which can be
//! after the future that started it was dropped. shardio therefore takes
//! buffers *by value*: the operation owns the buffer while it is in flight and
//! gives it back with the result (see [`BufResult`]). If the
//! future is dropped early, the buffer is kept alive inside the driver until
//! the kernel is done with it, and freed then.
//!
//! [`IoBuf`] is implemented for `Vec<u8>`, `Box<[u8]>`, `String`,
//! `bytes::Bytes`, `bytes::BytesMut`, `&'static [u8]` and `&'static str`;
//! [`IoBufMut`] for `Vec<u8>`, `Box<[u8]>` and `bytes::BytesMut`.
//! [`AlignedBuf`] is aligned for O_DIRECT; [`FixedBufPool`] lends buffers
//! registered with io_uring.

mod aligned;
pub(crate) mod arena;
mod fixed;
mod io_buf;
mod io_buf_mut;
mod tail;

pub use aligned::AlignedBuf;
pub use fixed::{FixedBuf, FixedBufPool};
pub(crate) use fixed::{PoolInner, REGISTERED_SLOTS};
pub use io_buf::IoBuf;
pub use io_buf_mut::IoBufMut;
pub(crate) use tail::{Tail, Window};

/// A result paired with the buffer that was lent to the kernel for the
/// operation: the buffer comes back whether the operation succeeded or not.
pub type BufResult<T, B> = (std::io::Result<T>, B);
