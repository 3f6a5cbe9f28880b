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
    direct: bool,
    direct_strict: bool,
    /// Set when made from std's `OpenOptions`, whose settings cannot be read
    /// back: the setters then apply to it too, and `open` uses it.
    std: Option<std::fs::OpenOptions>,
}

impl Default for OpenOptions {
    fn default() -> Self {
        Self::new()
    }
}

// `File::options` lives here, beside what it returns, so that `file.rs`
// does not import this file, which imports it.
impl File {
    /// An [`OpenOptions`] to configure and open a file.
    pub fn options() -> OpenOptions {
        OpenOptions::new()
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
            direct: false,
            direct_strict: false,
            std: None,
        }
    }

    /// Open for reading.
    pub fn read(&mut self, read: bool) -> &mut Self {
        self.read = read;
        if let Some(std) = &mut self.std {
            std.read(read);
        }
        self
    }

    /// Open for writing.
    pub fn write(&mut self, write: bool) -> &mut Self {
        self.write = write;
        if let Some(std) = &mut self.std {
            std.write(write);
        }
        self
    }

    /// Writes append (implies writing).
    pub fn append(&mut self, append: bool) -> &mut Self {
        self.append = append;
        if let Some(std) = &mut self.std {
            std.append(append);
        }
        self
    }

    /// Truncate to length 0 (needs writing).
    pub fn truncate(&mut self, truncate: bool) -> &mut Self {
        self.truncate = truncate;
        if let Some(std) = &mut self.std {
            std.truncate(truncate);
        }
        self
    }

    /// Create the file if missing (needs writing or appending).
    pub fn create(&mut self, create: bool) -> &mut Self {
        self.create = create;
        if let Some(std) = &mut self.std {
            std.create(create);
        }
        self
    }

    /// Create the file, failing if it exists (needs writing or appending).
    pub fn create_new(&mut self, create_new: bool) -> &mut Self {
        self.create_new = create_new;
        if let Some(std) = &mut self.std {
            std.create_new(create_new);
        }
        self
    }

    /// Permission bits for a created file (before the umask).
    pub fn mode(&mut self, mode: u32) -> &mut Self {
        self.mode = mode;
        if let Some(std) = &mut self.std {
            std::os::unix::fs::OpenOptionsExt::mode(std, mode);
        }
        self
    }

    /// Extra `open(2)` flags (e.g. `libc::O_NOATIME`); the access mode bits
    /// are ignored.
    pub fn custom_flags(&mut self, flags: i32) -> &mut Self {
        self.custom_flags = flags;
        if let Some(std) = &mut self.std {
            std::os::unix::fs::OpenOptionsExt::custom_flags(std, flags);
        }
        self
    }

    /// Direct I/O (`O_DIRECT`): reads and writes bypass the page cache.
    /// Buffers, lengths and offsets must then be aligned to the device's
    /// logical block size ([`File::direct_alignment`]); a misaligned one is an
    /// `InvalidInput` error before anything is submitted. Use
    /// [`File::aligned_buf`] for buffers. Only the positional API
    /// (`read_at`, `write_at`, ...) works on such a file, not the cursor.
    ///
    /// On a filesystem without O_DIRECT (ramfs; tmpfs before Linux 6.6) the
    /// file is opened buffered
    /// and one warning says so, unless [`direct_strict`](Self::direct_strict)
    /// asks for an error instead.
    pub fn direct(&mut self, direct: bool) -> &mut Self {
        self.direct = direct;
        self
    }

    /// With [`direct`](Self::direct): fail instead of falling back to
    /// buffered I/O where the filesystem lacks O_DIRECT.
    pub fn direct_strict(&mut self, strict: bool) -> &mut Self {
        self.direct_strict = strict;
        self
    }

    /// Opens `path` with these options.
    ///
    /// # Errors
    ///
    /// As std: `InvalidInput` for inconsistent options (e.g. `create`
    /// without writing), and the kernel's errors (`NotFound`,
    /// `AlreadyExists`, `PermissionDenied`, ...).
    ///
    /// # Cancel safety
    ///
    /// Dropping the future cancels the open, and a file the kernel opens anyway
    /// is closed; but with `create`, `create_new` or `truncate` the open may
    /// still have created or truncated the file.
    pub async fn open(&self, path: impl AsRef<Path>) -> io::Result<File> {
        let path = path.as_ref();
        if let Some(std) = &self.std {
            return self.open_std(std.clone(), path).await;
        }
        let flags = self.flags()?;
        let mode = self.mode as libc::mode_t;
        if !self.direct {
            return Ok(File::from_fd(
                Op::new(OpenAt::new(path, flags, mode)?).await?,
            ));
        }
        match Op::new(OpenAt::new(path, flags | libc::O_DIRECT, mode)?).await {
            Ok(fd) => Ok(File::from_direct_fd(fd)),
            Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
                if self.direct_strict {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "shardio: the filesystem of {path:?} does not support O_DIRECT \
                             (e.g. ramfs, or tmpfs before Linux 6.6); open it without direct_strict to fall back to \
                             buffered I/O"
                        ),
                    ));
                }
                warn_buffered_once(path);
                Ok(File::from_fd(
                    Op::new(OpenAt::new(path, flags, mode)?).await?,
                ))
            }
            Err(e) => Err(e),
        }
    }

    /// `open` for options made from std's: std's `open` on the blocking
    /// pool, as in Tokio (std's settings cannot be read back to build an
    /// io_uring open).
    async fn open_std(&self, mut std: std::fs::OpenOptions, path: &Path) -> io::Result<File> {
        let path = path.to_owned();
        if self.direct {
            use std::os::unix::fs::OpenOptionsExt;
            std.custom_flags(self.custom_flags | libc::O_DIRECT);
            let (direct_path, direct_std) = (path.clone(), std.clone());
            match super::blocking::asyncify(move || direct_std.open(direct_path)).await {
                Ok(file) => return Ok(File::from_direct_fd(file.into())),
                Err(e) if e.raw_os_error() == Some(libc::EINVAL) && !self.direct_strict => {
                    warn_buffered_once(&path);
                    std.custom_flags(self.custom_flags);
                }
                Err(e) => return Err(e),
            }
        }
        let file = super::blocking::asyncify(move || std.open(path)).await?;
        Ok(File::from_std(file))
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

impl From<std::fs::OpenOptions> for OpenOptions {
    /// Takes std's options as they are. Since their settings cannot be read
    /// back, a file opened with them is opened by std's `open` on the
    /// blocking pool (as Tokio opens every file), not by io_uring; setters
    /// called afterwards apply to them. With [`direct`](OpenOptions::direct),
    /// `O_DIRECT` is added to the flags given to
    /// [`custom_flags`](OpenOptions::custom_flags) after the conversion
    /// (replacing custom flags set on std's options before it).
    fn from(options: std::fs::OpenOptions) -> OpenOptions {
        let mut this = OpenOptions::new();
        this.std = Some(options);
        this
    }
}

/// The single warning for files opened buffered although direct I/O was asked.
fn warn_buffered_once(path: &Path) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    WARNED.call_once(|| {
        tracing::warn!(
            target: "shardio::fs",
            ?path,
            "the filesystem does not support O_DIRECT (e.g. ramfs): opened with buffered I/O \
             instead; use OpenOptions::direct_strict(true) to get an error"
        );
    });
}
