//! Files on io_uring.
//!
//! [`File`] offers completion-native positional I/O with owned buffers
//! (`read_at`, `write_at`) that many tasks can share, and `sync_all`. Tokio's
//! full `fs` surface (`AsyncRead`/`AsyncWrite`/`AsyncSeek`, `OpenOptions`,
//! free functions) is planned.

mod file;

pub use file::File;
