//! The parts of shardio::fs added for Tokio parity (issue 18): DirBuilder,
//! FileTimes and set_times, try_into_std, max_buf_size, conversions from
//! descriptors and std's OpenOptions, and the cursor's write finishing
//! before sync_all as in Tokio.

use std::io::{self, Read, Seek, Write};
use std::os::fd::{FromRawFd, IntoRawFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use shardio::fs::{self, DirBuilder, File, FileTimes, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

fn temp_path(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "shardio-fs-parity-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

#[shardio::test]
async fn dir_builder_recursive_and_mode() -> io::Result<()> {
    let _ = std::fs::DirBuilder::new().mode(0o755); // std's ext, for comparison
    let root = temp_path("dirs");
    let deep = root.join("a/b/c");
    assert_eq!(
        DirBuilder::new().create(&deep).await.unwrap_err().kind(),
        io::ErrorKind::NotFound
    );
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(&deep)
        .await?;
    assert!(std::fs::metadata(&deep)?.is_dir());
    assert_eq!(
        std::fs::metadata(root.join("a"))?.permissions().mode() & 0o777,
        0o700
    );
    // Recursive: an existing directory is fine; non-recursive: an error.
    DirBuilder::new().recursive(true).create(&deep).await?;
    let err = DirBuilder::new().create(&deep).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    std::fs::remove_dir_all(&root)
}

#[shardio::test]
async fn set_times_and_set_modified() -> io::Result<()> {
    let path = temp_path("times");
    let file = File::create(&path).await?;
    let accessed = SystemTime::UNIX_EPOCH + Duration::from_secs(1_600_000_000);
    let modified = SystemTime::UNIX_EPOCH + Duration::from_secs(1_500_000_000);
    file.set_times(
        FileTimes::new()
            .set_accessed(accessed)
            .set_modified(modified),
    )
    .await?;
    let meta = file.metadata().await?;
    assert_eq!((meta.accessed()?, meta.modified()?), (accessed, modified));
    let later = modified + Duration::from_secs(7);
    file.set_modified(later).await?;
    assert_eq!(file.metadata().await?.modified()?, later);
    std::fs::remove_file(&path)
}

#[shardio::test]
async fn max_buf_size_bounds_each_read_and_write() -> io::Result<()> {
    let path = temp_path("max-buf");
    std::fs::write(&path, b"hello world")?;
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .open(&path)
        .await?;
    file.set_max_buf_size(3);
    assert_eq!(file.max_buf_size(), 3);
    let mut buf = [0u8; 64];
    assert_eq!(file.read(&mut buf).await?, 3);
    assert_eq!(file.read(&mut buf).await?, 3);
    assert_eq!(file.write(b"ABCDEFG").await?, 3);
    file.flush().await?;
    assert_eq!(file.try_clone().await?.max_buf_size(), 3);
    assert_eq!(std::fs::read(&path)?, b"hello ABCld");
    let panic = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| file.set_max_buf_size(0)));
    assert!(panic.is_err());
    std::fs::remove_file(&path)
}

#[shardio::test]
async fn std_conversions_keep_the_position() -> io::Result<()> {
    let path = temp_path("conv");
    std::fs::write(&path, b"0123456789")?;
    // from_std starts at std's position.
    let mut std_file = std::fs::File::open(&path)?;
    std_file.seek(io::SeekFrom::Start(4))?;
    let mut file = File::from_std(std_file);
    let mut two = [0u8; 2];
    file.read_exact(&mut two).await?;
    assert_eq!(&two, b"45");
    // try_into_std hands back the cursor's position.
    let mut std_file = file.try_into_std().expect("nothing in flight");
    let mut rest = String::new();
    std_file.read_to_string(&mut rest)?;
    assert_eq!(rest, "6789");
    // From<OwnedFd> and FromRawFd.
    let owned: OwnedFd = std::fs::File::open(&path)?.into();
    let mut file = File::from(owned);
    let mut all = String::new();
    file.read_to_string(&mut all).await?;
    assert_eq!(all, "0123456789");
    let raw = file.into_std().await.into_raw_fd();
    // SAFETY: `raw` was just released by `into_raw_fd` and is owned by nothing.
    let mut file = unsafe { File::from_raw_fd(raw) };
    assert_eq!(file.seek(io::SeekFrom::Current(0)).await?, 10);
    assert!(format!("{file:?}").starts_with("shardio::fs::File { std: File { fd:"));
    std::fs::remove_file(&path)
}

#[shardio::test]
async fn open_options_from_std() -> io::Result<()> {
    let path = temp_path("from-std");
    let mut std_options = std::fs::OpenOptions::new();
    std_options.write(true).create_new(true);
    let mut file = OpenOptions::from(std_options).open(&path).await?;
    file.write_all(b"made by std's options").await?;
    file.flush().await?;
    assert_eq!(std::fs::read(&path)?, b"made by std's options");
    let mut again = std::fs::OpenOptions::new();
    again.write(true).create_new(true);
    let err = OpenOptions::from(again).open(&path).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    // Setters after the conversion apply.
    let mut options = OpenOptions::from(std::fs::OpenOptions::new());
    let mut file = options.read(true).open(&path).await?;
    let mut s = String::new();
    file.read_to_string(&mut s).await?;
    assert_eq!(s, "made by std's options");
    std::fs::remove_file(&path)
}

/// `write_all(..).await` then `sync_all()` without a flush: as with Tokio,
/// sync_all waits for the cursor's write, so the bytes are in the file
/// (and synced) when it returns.
#[shardio::test]
async fn sync_all_waits_for_the_cursor_write() -> io::Result<()> {
    let path = temp_path("sync");
    for round in 0..20 {
        let mut file = File::create(&path).await?;
        let data = vec![round as u8; 200_000];
        file.write_all(&data).await?;
        file.sync_all().await?;
        assert_eq!(std::fs::metadata(&path)?.len(), data.len() as u64);
        file.write_all(b"tail").await?;
        file.set_len(100).await?;
        assert_eq!(std::fs::metadata(&path)?.len(), 100, "round {round}");
    }
    let mut std_file = std::fs::File::open(&path)?;
    let mut v = Vec::new();
    std_file.read_to_end(&mut v)?;
    assert_eq!(v.len(), 100);
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .open(&path)?
        .write(b"")?;
    fs::remove_file(&path).await
}
