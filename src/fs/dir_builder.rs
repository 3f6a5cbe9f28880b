//! Tokio's `DirBuilder`, creating directories with `IORING_OP_MKDIRAT`.

use std::io;
use std::path::Path;

use crate::driver::Op;
use crate::ops::mkdir::MkDir;

/// A builder for creating directories in various manners: Tokio's
/// `DirBuilder`, on io_uring (`mkdirat`) where Tokio uses the blocking pool.
#[derive(Debug, Default)]
pub struct DirBuilder {
    /// Indicates whether to create parent directories if they are missing.
    recursive: bool,
    /// Permission bits for created directories (before the umask); `None`
    /// means `0o777`, as std.
    mode: Option<u32>,
}

impl DirBuilder {
    /// Creates a new set of options with default mode/security settings for
    /// all platforms and also non-recursive.
    pub fn new() -> Self {
        DirBuilder::default()
    }

    /// Indicates whether to create directories recursively (including all
    /// parent directories). Parents that do not exist are created with the
    /// same security and permissions settings.
    ///
    /// This option defaults to `false`.
    pub fn recursive(&mut self, recursive: bool) -> &mut Self {
        self.recursive = recursive;
        self
    }

    /// Creates the specified directory with the configured options.
    ///
    /// It is considered an error if the directory already exists unless
    /// recursive mode is enabled.
    ///
    /// # Errors
    ///
    /// An error will be returned under the following circumstances:
    ///
    /// * Path already points to an existing file.
    /// * Path already points to an existing directory and the mode is
    ///   non-recursive.
    /// * The calling process doesn't have permissions to create the directory
    ///   or its missing parents.
    /// * Other I/O error occurred.
    ///
    /// # Cancel safety
    ///
    /// If dropped before it completes, the directory (or, recursively, some
    /// of its missing parents) may or may not have been created (see
    /// [Cancellation](crate::fs#cancellation)); a later call creates the rest.
    pub async fn create(&self, path: impl AsRef<Path>) -> io::Result<()> {
        let mode = self.mode.unwrap_or(0o777);
        if self.recursive {
            super::functions::create_dir_all_mode(path.as_ref(), mode).await
        } else {
            Op::new(MkDir::new(path.as_ref(), mode as _)?).await
        }
    }

    /// Sets the mode to create new directories with (before the umask).
    ///
    /// This option defaults to 0o777.
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = Some(mode);
        self
    }
}
