//! Tokio's `fs` free functions. Those with an io_uring opcode use it
//! (open, read, write, rename, unlink, mkdir, link, symlink); the others run
//! on the blocking pool, as in Tokio.

use std::io;
use std::path::{Path, PathBuf};

use super::File;
use super::blocking::asyncify;
use crate::driver::Op;
use crate::ops::link::Link;
use crate::ops::mkdir::MkDir;
use crate::ops::rename::Rename;
use crate::ops::unlink::Unlink;

/// Chunk size for whole-file reads and copies.
const CHUNK: usize = 256 * 1024;

/// Reads a whole file.
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing; the file and the bytes read so far are
/// dropped with the future.
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let file = File::open(path).await?;
    let mut data = Vec::new();
    loop {
        let (res, chunk) = file
            .read_at(Vec::with_capacity(CHUNK), data.len() as u64)
            .await;
        match res {
            Ok(0) => return Ok(data),
            Ok(_) => data.extend_from_slice(&chunk),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Reads a whole file as UTF-8 (`InvalidData` if it is not).
///
/// # Cancel safety
///
/// Cancel safe, as [`read`].
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    String::from_utf8(read(path).await?).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

/// Writes `contents` as the whole file, creating or truncating it.
///
/// # Cancel safety
///
/// Not cancel safe: if dropped before completing, the file may have been
/// created or truncated, and a prefix of `contents` written.
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let file = File::create(path).await?;
    let (res, _) = file.write_all_at(contents.as_ref().to_vec(), 0).await;
    res
}

/// Copies the contents and permissions of `from` to `to`; returns the bytes
/// copied.
///
/// # Cancel safety
///
/// Not cancel safe: if dropped before completing, `to` may have been created or
/// truncated and hold part of the contents, without `from`'s permissions.
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let src = File::open(from).await?;
    let perm = src.metadata().await?.permissions();
    let dst = File::create(to).await?;
    let mut at = 0u64;
    let mut buf = Vec::with_capacity(CHUNK);
    loop {
        buf.clear();
        let (res, b) = src.read_at(buf, at).await;
        let n = res?;
        if n == 0 {
            break;
        }
        let (res, b) = dst.write_all_at(b, at).await;
        res?;
        buf = b;
        at += n as u64;
    }
    dst.set_permissions(perm).await?;
    Ok(at)
}

/// Renames a file or directory, replacing `to` if it exists.
///
/// # Cancel safety
///
/// If dropped before it completes, the rename may or may not have happened (see
/// [Cancellation](crate::fs#cancellation)).
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    Op::new(Rename::new(from.as_ref(), to.as_ref())?).await
}

/// Removes a file.
///
/// # Cancel safety
///
/// If dropped before it completes, the removal may or may not have happened
/// (see [Cancellation](crate::fs#cancellation)).
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    Op::new(Unlink::new(path.as_ref(), false)?).await
}

/// Removes an empty directory.
///
/// # Cancel safety
///
/// If dropped before it completes, the removal may or may not have happened
/// (see [Cancellation](crate::fs#cancellation)).
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    Op::new(Unlink::new(path.as_ref(), true)?).await
}

/// Removes a directory and everything in it (blocking pool).
///
/// # Cancel safety
///
/// Once polled, the removal runs on the blocking pool to its end even if the
/// future is dropped, as in Tokio.
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::remove_dir_all(path)).await
}

/// Creates a directory (mode `0o777` before the umask).
///
/// # Cancel safety
///
/// If dropped before it completes, the creation may or may not have happened
/// (see [Cancellation](crate::fs#cancellation)).
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    Op::new(MkDir::new(path.as_ref(), 0o777)?).await
}

/// Creates a directory and every missing parent; succeeds if it exists.
///
/// # Cancel safety
///
/// If dropped before it completes, some of the missing directories may have
/// been created; a later call creates the rest.
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    create_dir_all_mode(path.as_ref(), 0o777).await
}

/// [`create_dir_all`] creating each missing directory with `mode` (before
/// the umask), as `std::fs::DirBuilder` with `recursive` and `mode` does.
pub(super) async fn create_dir_all_mode(path: &Path, mode: u32) -> io::Result<()> {
    let mkdir = |dir: PathBuf| async move { Op::new(MkDir::new(&dir, mode as _)?).await };
    if path.as_os_str().is_empty() {
        return Ok(());
    }
    let mut missing: Vec<PathBuf> = Vec::new();
    let mut at = path.to_owned();
    loop {
        match mkdir(at.clone()).await {
            Ok(()) => break,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                if !metadata(&at).await?.is_dir() {
                    return Err(e);
                }
                break;
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match at.parent() {
                Some(parent) if !parent.as_os_str().is_empty() => {
                    missing.push(at.clone());
                    at = parent.to_owned();
                }
                _ => return Err(e),
            },
            Err(e) => return Err(e),
        }
    }
    while let Some(dir) = missing.pop() {
        match mkdir(dir).await {
            Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    Ok(())
}

/// Creates a hard link `link` to `original`.
///
/// # Cancel safety
///
/// If dropped before it completes, the link's creation may or may not have
/// happened (see [Cancellation](crate::fs#cancellation)).
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    Op::new(Link::new(original.as_ref(), link.as_ref(), false)?).await
}

/// Creates a symbolic link `link` pointing at `original`.
///
/// # Cancel safety
///
/// If dropped before it completes, the link's creation may or may not have
/// happened (see [Cancellation](crate::fs#cancellation)).
pub async fn symlink(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    Op::new(Link::new(original.as_ref(), link.as_ref(), true)?).await
}

/// Metadata of `path`, following symbolic links (blocking pool:
/// `std::fs::Metadata` cannot be built from io_uring's `statx`).
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing. A dropped call may still finish on the
/// blocking pool, its result discarded.
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::metadata(path)).await
}

/// Metadata of `path` itself, not following a symbolic link.
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing. A dropped call may still finish on the
/// blocking pool, its result discarded.
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<std::fs::Metadata> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::symlink_metadata(path)).await
}

/// The canonical, absolute form of `path`.
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing. A dropped call may still finish on the
/// blocking pool, its result discarded.
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::canonicalize(path)).await
}

/// Whether `path` exists (`Ok(false)` only when it certainly does not).
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing. A dropped call may still finish on the
/// blocking pool, its result discarded.
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    asyncify(move || path.try_exists()).await
}

/// The target of a symbolic link.
///
/// # Cancel safety
///
/// Cancel safe: it changes nothing. A dropped call may still finish on the
/// blocking pool, its result discarded.
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::read_link(path)).await
}

/// Changes the permissions of `path`.
///
/// # Cancel safety
///
/// Once polled, the change runs on the blocking pool to its end even if the
/// future is dropped, as in Tokio.
pub async fn set_permissions(path: impl AsRef<Path>, perm: std::fs::Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    asyncify(move || std::fs::set_permissions(path, perm)).await
}

/// Tokio's directory iteration, used as is: there is no io_uring opcode for
/// reading directories, and Tokio's runs on the blocking pool.
pub use tokio::fs::{DirEntry, ReadDir, read_dir};
