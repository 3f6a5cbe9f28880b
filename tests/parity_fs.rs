//! Every public item of Tokio 1.54's `tokio::fs` (unix), named with its
//! type: a missing or differently typed item in `shardio::fs` fails to
//! compile. Nothing here touches the filesystem.
#![allow(dead_code, clippy::type_complexity, clippy::useless_conversion)]

use std::ffi::OsString;
use std::fs::{FileType, Metadata, Permissions};
use std::io;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::task::{Context, Poll};
use std::time::SystemTime;

use shardio::fs::{self, DirBuilder, DirEntry, File, FileTimes, OpenOptions, ReadDir};
use tokio::io::{AsyncRead, AsyncSeek, AsyncWrite};

fn file_traits<
    T: Send
        + Sync
        + Unpin
        + std::fmt::Debug
        + AsyncRead
        + AsyncWrite
        + AsyncSeek
        + AsRawFd
        + AsFd
        + FromRawFd
        + From<std::fs::File>
        + From<OwnedFd>,
>() {
}
fn options_traits<T: Clone + std::fmt::Debug + Default + From<std::fs::OpenOptions>>() {}
fn debug_default<T: std::fmt::Debug + Default>() {}
fn debug_clone_default<T: std::fmt::Debug + Clone + Default>() {}
fn debug<T: std::fmt::Debug + Send + Sync>() {}

#[test]
fn sync_items() {
    file_traits::<File>();
    options_traits::<OpenOptions>();
    debug_default::<DirBuilder>();
    debug_clone_default::<FileTimes>();
    debug::<ReadDir>();
    debug::<DirEntry>();

    let _: fn() -> OpenOptions = File::options;
    let _: fn(std::fs::File) -> File = File::from_std;
    let _: fn(File) -> Result<std::fs::File, File> = File::try_into_std;
    let _: fn(&mut File, usize) = File::set_max_buf_size;
    let _: fn(&File) -> usize = File::max_buf_size;

    let _: fn() -> OpenOptions = OpenOptions::new;
    let _: fn(&mut OpenOptions, bool) -> &mut OpenOptions = OpenOptions::read;
    let _: fn(&mut OpenOptions, bool) -> &mut OpenOptions = OpenOptions::write;
    let _: fn(&mut OpenOptions, bool) -> &mut OpenOptions = OpenOptions::append;
    let _: fn(&mut OpenOptions, bool) -> &mut OpenOptions = OpenOptions::truncate;
    let _: fn(&mut OpenOptions, bool) -> &mut OpenOptions = OpenOptions::create;
    let _: fn(&mut OpenOptions, bool) -> &mut OpenOptions = OpenOptions::create_new;
    let _: fn(&mut OpenOptions, u32) -> &mut OpenOptions = OpenOptions::mode;
    let _: fn(&mut OpenOptions, i32) -> &mut OpenOptions = OpenOptions::custom_flags;

    let _: fn() -> DirBuilder = DirBuilder::new;
    let _: fn(&mut DirBuilder, bool) -> &mut DirBuilder = DirBuilder::recursive;
    let _: fn(&mut DirBuilder, u32) -> &mut DirBuilder = DirBuilder::mode;

    let _: fn() -> FileTimes = FileTimes::new;
    let _: fn(FileTimes, SystemTime) -> FileTimes = FileTimes::set_accessed;
    let _: fn(FileTimes, SystemTime) -> FileTimes = FileTimes::set_modified;

    let _: fn(&mut ReadDir, &mut Context<'_>) -> Poll<io::Result<Option<DirEntry>>> =
        ReadDir::poll_next_entry;
    let _: fn(&DirEntry) -> PathBuf = DirEntry::path;
    let _: fn(&DirEntry) -> OsString = DirEntry::file_name;
    let _: fn(&DirEntry) -> u64 = DirEntry::ino;
}

/// The async items, called with the argument types Tokio takes (never run).
async fn async_items() -> io::Result<()> {
    let p = Path::new("/tmp/x");
    let pb = PathBuf::from("/tmp/y");
    let _: PathBuf = fs::canonicalize(p).await?;
    let _: u64 = fs::copy(p, &pb).await?;
    let _: () = fs::create_dir("d").await?;
    let _: () = fs::create_dir_all(pb.clone()).await?;
    let _: () = DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(p)
        .await?;
    let _: () = fs::hard_link(p, "l").await?;
    let _: Metadata = fs::metadata(p).await?;
    let _: Vec<u8> = fs::read(p).await?;
    let mut rd: ReadDir = fs::read_dir(p).await?;
    if let Some(entry) = rd.next_entry().await? {
        let _: Metadata = entry.metadata().await?;
        let _: FileType = entry.file_type().await?;
    }
    let _: PathBuf = fs::read_link(p).await?;
    let _: String = fs::read_to_string(p).await?;
    let _: () = fs::remove_dir(p).await?;
    let _: () = fs::remove_dir_all(p).await?;
    let _: () = fs::remove_file(p).await?;
    let _: () = fs::rename(p, &pb).await?;
    let _: () =
        fs::set_permissions(p, Permissions::from(std::fs::metadata(p)?.permissions())).await?;
    let _: Metadata = fs::symlink_metadata(p).await?;
    let _: () = fs::write(p, b"x").await?;
    let _: () = fs::write(p, String::from("x")).await?;
    let _: bool = fs::try_exists(p).await?;
    let _: () = fs::symlink(p, "s").await?;

    let f: File = File::open(p).await?;
    let _: File = File::create("c").await?;
    let _: File = File::create_new::<&str>("n").await?;
    let _: File = OpenOptions::new().read(true).open(p).await?;
    let _: () = f.sync_all().await?;
    let _: () = f.sync_data().await?;
    let _: () = f.set_len(0).await?;
    let _: Metadata = f.metadata().await?;
    let g: File = f.try_clone().await?;
    let _: std::fs::File = g.into_std().await;
    let _: () = f
        .set_permissions(std::fs::Permissions::from(
            f.metadata().await?.permissions(),
        ))
        .await?;
    let _: () = f
        .set_times(FileTimes::new().set_modified(SystemTime::now()))
        .await?;
    let _: () = f.set_modified(SystemTime::now()).await?;
    Ok(())
}

fn is_send<T: Send>(_: &T) {}

#[test]
fn async_items_are_send() {
    is_send(&async_items());
}
