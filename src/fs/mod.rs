//! Files on io_uring.
//!
//! Tokio's names: [`File`], [`OpenOptions`] and the free functions
//! (`read`, `write`, `rename`, `create_dir_all`, ...), on io_uring opcodes
//! where the kernel has one and on the blocking pool where it does not.
//! `File` adds completion-native positional I/O with owned buffers
//! (`read_at`, `write_at`, `read_exact_at`, `write_all_at`) that many tasks
//! can share.
//!
//! # Cancellation
//!
//! Dropping a future of this module before it completes never frees memory
//! or closes a descriptor the kernel still uses: an operation already
//! submitted to io_uring is asked to cancel, and its buffers and file stay
//! alive until the kernel let go of them. It may still complete, if the
//! kernel did it before the cancel arrived. What runs on the blocking pool
//! (and every operation on the fallback path) runs to its end once started,
//! as in Tokio. So a dropped read loses nothing (the data is still in the
//! file), but a dropped write, rename, removal or creation may or may not
//! have happened. Each function's *Cancel safety* section says which.

mod blocking;
mod cursor;
mod cursor_state;
mod dir_builder;
mod direct;
mod file;
mod file_conv;
mod file_times;
mod functions;
mod open_options;
mod positional;

pub use dir_builder::DirBuilder;
pub use file::File;
pub use file_times::FileTimes;
pub use functions::{
    DirEntry, ReadDir, canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read,
    read_dir, read_link, read_to_string, remove_dir, remove_dir_all, remove_file, rename,
    set_permissions, symlink, symlink_metadata, try_exists, write,
};
pub use open_options::OpenOptions;
