//! Files on io_uring.
//!
//! Tokio's names: [`File`], [`OpenOptions`] and the free functions
//! (`read`, `write`, `rename`, `create_dir_all`, ...), on io_uring opcodes
//! where the kernel has one and on the blocking pool where it does not.
//! `File` adds completion-native positional I/O with owned buffers
//! (`read_at`, `write_at`, `read_exact_at`, `write_all_at`) that many tasks
//! can share.

mod blocking;
mod cursor;
mod direct;
mod file;
mod functions;
mod open_options;

pub use file::File;
pub use functions::{
    DirEntry, ReadDir, canonicalize, copy, create_dir, create_dir_all, hard_link, metadata, read,
    read_dir, read_link, read_to_string, remove_dir, remove_dir_all, remove_file, rename,
    set_permissions, symlink, symlink_metadata, try_exists, write,
};
pub use open_options::OpenOptions;
