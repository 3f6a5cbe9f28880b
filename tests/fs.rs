//! Tokio's documented `fs` behaviours on shardio's types.

use std::io::{self, SeekFrom};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shardio::fs::{self, File, OpenOptions};
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};

fn temp(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "shardio-fs-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

#[shardio::test]
async fn open_options_follow_std_rules() -> io::Result<()> {
    let path = temp("opts");
    let err = OpenOptions::new().open(&path).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "no access mode");
    let err = OpenOptions::new()
        .read(true)
        .create(true)
        .open(&path)
        .await
        .unwrap_err();
    assert_eq!(
        err.kind(),
        io::ErrorKind::InvalidInput,
        "create needs write"
    );
    let err = OpenOptions::new().read(true).open(&path).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);

    let f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .await?;
    let (res, _) = f.write_all_at(b"12345".to_vec(), 0).await;
    res?;
    let err = File::create_new(&path).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            fs::metadata(&path).await?.permissions().mode() & 0o777,
            0o600
        );
    }
    let mut appender = OpenOptions::new().append(true).open(&path).await?;
    appender.write_all(b"678").await?;
    appender.flush().await?;
    assert_eq!(fs::read(&path).await?, b"12345678");
    let _truncated = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .await?;
    assert_eq!(fs::read(&path).await?, b"");
    fs::remove_file(&path).await
}

#[shardio::test]
async fn free_functions_work_like_tokios() -> io::Result<()> {
    let dir = temp("dir");
    fs::create_dir_all(dir.join("a/b/c")).await?;
    fs::create_dir_all(dir.join("a/b/c")).await?; // exists: fine
    assert!(fs::metadata(dir.join("a/b/c")).await?.is_dir());
    let file = dir.join("a/b/c/file.txt");
    fs::write(&file, "hello shardio").await?;
    assert_eq!(fs::read_to_string(&file).await?, "hello shardio");
    assert_eq!(fs::copy(&file, dir.join("copy.txt")).await?, 13);
    fs::rename(dir.join("copy.txt"), dir.join("moved.txt")).await?;
    assert!(!fs::try_exists(dir.join("copy.txt")).await?);
    fs::hard_link(dir.join("moved.txt"), dir.join("hard.txt")).await?;
    fs::symlink(dir.join("moved.txt"), dir.join("sym.txt")).await?;
    assert_eq!(
        fs::read_link(dir.join("sym.txt")).await?,
        dir.join("moved.txt")
    );
    assert!(
        fs::symlink_metadata(dir.join("sym.txt"))
            .await?
            .file_type()
            .is_symlink()
    );
    assert_eq!(fs::read(dir.join("sym.txt")).await?, b"hello shardio");
    let mut names = Vec::new();
    let mut entries = fs::read_dir(&dir).await?;
    while let Some(entry) = entries.next_entry().await? {
        names.push(entry.file_name().into_string().expect("utf-8"));
    }
    names.sort();
    assert_eq!(names, ["a", "hard.txt", "moved.txt", "sym.txt"]);
    let err = fs::read_to_string(dir.join("nope")).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::NotFound);
    fs::write(dir.join("bin"), [0xff, 0xfe]).await?;
    let err = fs::read_to_string(dir.join("bin")).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    let err = fs::remove_dir(dir.join("a")).await.unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::DirectoryNotEmpty);
    fs::remove_file(dir.join("hard.txt")).await?;
    assert!(fs::canonicalize(&dir).await?.is_absolute());
    fs::remove_dir_all(&dir).await?;
    assert!(!fs::try_exists(&dir).await?);
    Ok(())
}

#[shardio::test]
async fn cursor_read_write_seek_like_tokio() -> io::Result<()> {
    let path = temp("cursor");
    let mut f = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .open(&path)
        .await?;
    f.write_all(b"hello world").await?;
    assert_eq!(f.stream_position().await?, 11);
    f.seek(SeekFrom::Start(6)).await?;
    let mut word = [0u8; 5];
    f.read_exact(&mut word).await?;
    assert_eq!(&word, b"world");
    f.seek(SeekFrom::End(-11)).await?;
    f.write_all(b"HELLO").await?;
    f.seek(SeekFrom::Current(1)).await?;
    let mut rest = String::new();
    f.read_to_string(&mut rest).await?;
    assert_eq!(rest, "world");
    assert!(
        f.seek(SeekFrom::Current(-100)).await.is_err(),
        "negative position"
    );
    f.rewind().await?;
    let mut all = Vec::new();
    f.read_to_end(&mut all).await?;
    assert_eq!(all, b"HELLO world");
    // A large write through the cursor, then read back by position.
    let big: Vec<u8> = (0..3 * 1024 * 1024).map(|i: u32| (i % 241) as u8).collect();
    f.set_len(0).await?;
    f.rewind().await?;
    f.write_all(&big).await?;
    f.flush().await?;
    f.sync_all().await?;
    assert_eq!(f.metadata().await?.len(), big.len() as u64);
    let (res, back) = f.read_exact_at(vec![0u8; big.len()], 0).await;
    res?;
    assert!(back == big);
    // Writing to a read-only file fails like Tokio's (EBADF).
    let mut ro = File::open(&path).await?;
    let err = async {
        ro.write_all(b"x").await?;
        ro.flush().await
    }
    .await
    .unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    fs::remove_file(&path).await
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_write_all_at_then_read_back_intact() -> io::Result<()> {
    const BLOCK: usize = 64 * 1024;
    const BLOCKS: usize = 64;
    let path = temp("integrity");
    let file = Arc::new(File::create(&path).await?);
    let mut seed = 0x853c_49e6_748f_ea9bu64;
    let mut blocks = Vec::new();
    for _ in 0..BLOCKS {
        let block: Vec<u8> = (0..BLOCK)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                seed as u8
            })
            .collect();
        blocks.push(block);
    }
    let tasks: Vec<_> = blocks
        .iter()
        .enumerate()
        .map(|(i, block)| {
            let (file, block) = (Arc::clone(&file), block.clone());
            tokio::spawn(async move {
                let (res, _) = file.write_all_at(block, (i * BLOCK) as u64).await;
                res
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    file.sync_all().await?;
    let reader = File::open(&path).await?;
    for (i, block) in blocks.iter().enumerate() {
        let (res, got) = reader
            .read_exact_at(Vec::with_capacity(BLOCK), (i * BLOCK) as u64)
            .await;
        res?;
        assert!(&got == block, "block {i} differs");
    }
    let (res, _) = reader
        .read_exact_at(vec![0u8; 10], (BLOCKS * BLOCK) as u64)
        .await;
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::UnexpectedEof);
    fs::remove_file(&path).await
}

#[shardio::test]
async fn vectored_positional_io() -> io::Result<()> {
    let path = temp("vectored");
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .open(&path)
        .await?;
    let parts = vec![b"one-".to_vec(), b"two-".to_vec(), b"three".to_vec()];
    let (res, parts) = file.writev_at(parts, 10).await;
    assert_eq!(res?, 13);
    assert_eq!(parts.len(), 3, "buffers come back");
    let bufs = vec![
        Vec::with_capacity(4),
        Vec::with_capacity(4),
        Vec::with_capacity(16),
    ];
    let (res, bufs) = file.readv_at(bufs, 10).await;
    assert_eq!(res?, 13);
    assert_eq!(bufs[0], b"one-");
    assert_eq!(bufs[1], b"two-");
    assert_eq!(bufs[2], b"three");
    assert_eq!(
        fs::read(&path).await?[..10],
        [0u8; 10],
        "a hole before the offset"
    );
    fs::remove_file(&path).await
}

/// Polls `fut` once and reports whether it is still pending.
fn poll_once<F: std::future::Future>(fut: std::pin::Pin<&mut F>) -> bool {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    fut.poll(&mut cx).is_pending()
}

#[test]
fn file_reads_reach_the_kernel_as_config_storage_submit_batch_says() -> io::Result<()> {
    use std::io::Write;
    for batch in [1usize, 2] {
        let mut builder = tokio::runtime::Builder::new_current_thread();
        builder.enable_all();
        shardio::BuilderExt::shardio(
            &mut builder,
            shardio::Config::default().storage_submit_batch(batch)?,
        );
        let rt = builder.build()?;
        rt.block_on(async {
            // A pipe's read stays in flight until data comes.
            let (rx, mut tx) = std::io::pipe()?;
            let file = File::from_std(std::fs::File::from(std::os::fd::OwnedFd::from(rx)));
            // Set up the ring and let its reaper start.
            shardio::nop().await?;
            tokio::task::yield_now().await;
            let before = shardio::metrics();
            let mut read = std::pin::pin!(file.read_at(vec![0u8; 16], 0));
            assert!(poll_once(read.as_mut()), "nothing to read yet");
            let after = shardio::metrics();
            if !after.fallback_active {
                let entered = after.enter_calls - before.enter_calls;
                if batch == 1 {
                    assert_eq!(entered, 1, "submitted as soon as it was issued");
                } else {
                    assert_eq!(entered, 0, "waits for a second file operation");
                }
            }
            tx.write_all(b"hello")?;
            let (res, buf) = read.await;
            assert_eq!(&buf[..res?], b"hello");
            io::Result::Ok(())
        })?;
    }
    Ok(())
}
