use std::io;
use std::path::Path;

use super::File;
use crate::driver::Op;
use crate::ops::open::OpenAt;

/// Options for opening a file: Tokio's (and std's) `OpenOptions`, plus
/// `mode` and `custom_flags`, opening through `IORING_OP_OPENAT`.
///
/// ```no_run
/// use shardio::fs::OpenOptions;
///
/// # async fn demo() -> std::io::Result<()> {
/// let log = OpenOptions::new().append(true).create(true).open("/tmp/app.log").await?;
/// # drop(log);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct OpenOptions {
    read: bool,
    write: bool,
    append: bool,
    truncate: bool,
    create: bool,
    create_new: bool,
    mode: u32,
    custom_flags: i32,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

impl OpenOptions {
    /// All options off; mode `0o666` (before the umask).
    pub fn new() -> OpenOptions {
        OpenOptions {
            read: false,
            write: false,
            append: false,
            truncate: false,
            create: false,
            create_new: false,
            mode: 0o666,
            custom_flags: 0,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        self
    }

    /// Writes append (implies writing).
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        self
    }

    /// Truncate to length 0 (needs writing).
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        self
    }

    /// Create the file if missing (needs writing or appending).
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        self
    }

    /// Create the file, failing if it exists (needs writing or appending).
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        self
    }

    /// Permission bits for a created file (before the umask).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode;
        self
    }

    /// Extra `open(2)` flags (e.g. `libc::O_NOATIME`); the access mode bits
    /// are ignored.
    pub fn custom_flags(&mut self, flags: i32) -> &mut Self {
        self.custom_flags = flags;
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// As std: `InvalidInput` for inconsistent options (e.g. `create`
    /// without writing), and the kernel's errors (`NotFound`,
    /// `AlreadyExists`, `PermissionDenied`, ...).
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let flags = self.flags()?;
        let fd = Op::new(OpenAt::new(
            path.as_ref(),
            flags,
            self.mode as libc::mode_t,
        )?)
        .await?;
        Ok(File::from_fd(fd))
    }

    /// The `open(2)` flags, with std's rules for what goes together.
    fn flags(&self) -> io::Result<libc::c_int> {
        let invalid = |what: &str| {
            Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("shardio: invalid OpenOptions: {what}"),
            ))
        };
        let access = match (self.read, self.write, self.append) {
            (true, false, false) => libc::O_RDONLY,
            (false, true, false) => libc::O_WRONLY,
            (true, true, false) => libc::O_RDWR,
            (false, _, true) => libc::O_WRONLY | libc::O_APPEND,
            (true, _, true) => libc::O_RDWR | libc::O_APPEND,
            (false, false, false) => return invalid("none of read, write or append is set"),
        };
        let writing = self.write || self.append;
        if !writing && (self.truncate || self.create || self.create_new) {
            return invalid("truncate, create and create_new need write or append");
        }
        if self.append && self.truncate && !self.create_new {
            return invalid("append and truncate together");
        }
        let creation = match (self.create, self.truncate, self.create_new) {
            (_, _, true) => libc::O_CREAT | libc::O_EXCL,
            (false, false, false) => 0,
            (true, false, false) => libc::O_CREAT,
            (false, true, false) => libc::O_TRUNC,
            (true, true, false) => libc::O_CREAT | libc::O_TRUNC,
        };
        Ok(access | creation | (self.custom_flags & !libc::O_ACCMODE))
    }
}
