//! O_DIRECT files: alignment checked before submission, aligned buffers,
//! integrity under concurrency, and a filesystem without O_DIRECT handled as
//! documented.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shardio::buf::{AlignedBuf, IoBuf};
use shardio::fs::{File, OpenOptions};

fn temp(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    // Under /var/tmp: a disk filesystem even where /tmp is a tmpfs.
    std::path::Path::new("/var/tmp").join(format!(
        "shardio-direct-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

async fn open_direct(path: &std::path::Path) -> io::Result<File> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .direct(true)
        .direct_strict(true)
        .open(path)
        .await
}

/// A window of an aligned buffer, to build misaligned addresses and lengths.
struct Window {
    buf: AlignedBuf,
    off: usize,
    len: usize,
}

// SAFETY: points into the AlignedBuf's heap allocation (off + len within
// it), which does not move with the struct and is fully initialized.
unsafe impl IoBuf for Window {
    fn stable_ptr(&self) -> *const u8 {
        self.buf[self.off..].as_ptr()
    }
    fn bytes_init(&self) -> usize {
        self.len
    }
    fn bytes_total(&self) -> usize {
        self.len
    }
}

#[shardio::test]
async fn misaligned_transfers_are_refused_before_submission() -> io::Result<()> {
    let path = temp("misaligned");
    let file = open_direct(&path).await?;
    let align = file
        .direct_alignment()
        .expect("a disk filesystem supports O_DIRECT");
    let before = shardio::metrics().ops_submitted;
    for (off, len, pos, what) in [
        (1, align, 0, "buffer address"),
        (0, align + 1, 0, "length"),
        (0, align, 1, "file offset"),
    ] {
        let window = Window {
            buf: file.aligned_buf(2 * align)?,
            off,
            len,
        };
        let (res, _) = file.write_at(window, pos).await;
        let err = res.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains(what), "{err}");
        assert!(err.to_string().contains(&align.to_string()), "{err}");
    }
    let (res, _) = file.read_at(Vec::<u8>::with_capacity(100), 0).await;
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    assert_eq!(
        shardio::metrics().ops_submitted,
        before,
        "nothing reached the kernel"
    );
    std::fs::remove_file(&path)
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aligned_direct_io_keeps_every_byte_under_concurrency() -> io::Result<()> {
    const BLOCK: usize = 64 * 1024;
    const BLOCKS: u64 = 32;
    let path = temp("integrity");
    let file = Arc::new(open_direct(&path).await?);
    let before = shardio::metrics();
    let tasks: Vec<_> = (0..BLOCKS)
        .map(|i| {
            let file = Arc::clone(&file);
            tokio::spawn(async move {
                let mut buf = file.aligned_buf(BLOCK)?;
                for (j, b) in buf.iter_mut().enumerate() {
                    *b = (i as u8).wrapping_mul(31) ^ (j as u8);
                }
                let (res, _) = file.write_all_at(buf, i * BLOCK as u64).await;
                res
            })
        })
        .collect();
    for t in tasks {
        t.await.map_err(io::Error::other)??;
    }
    file.sync_all().await?;
    for i in 0..BLOCKS {
        let (res, buf) = file
            .read_exact_at(file.aligned_buf(BLOCK)?, i * BLOCK as u64)
            .await;
        res?;
        assert!(
            buf.iter()
                .enumerate()
                .all(|(j, &b)| b == (i as u8).wrapping_mul(31) ^ (j as u8)),
            "block {i}"
        );
    }
    let after = shardio::metrics();
    if !after.fallback_active {
        // 64 KiB aligned buffers come from the registered arena.
        assert!(
            after.ops_registered_buf >= before.ops_registered_buf + 2 * BLOCKS,
            "aligned buffers ran as fixed-buffer operations: {} -> {}",
            before.ops_registered_buf,
            after.ops_registered_buf
        );
    }
    // The cursor API copies through unaligned buffers: refused, clearly.
    let mut cursor = open_direct(&path).await?;
    let err = tokio::io::AsyncReadExt::read(&mut cursor, &mut [0u8; 512])
        .await
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    std::fs::remove_file(&path)
}

#[shardio::test]
async fn no_o_direct_filesystem_falls_back_to_buffered_or_errors_when_strict() -> io::Result<()> {
    // ramfs has no O_DIRECT (tmpfs has it since Linux 6.6).
    let dir = temp("ramfs");
    std::fs::create_dir_all(&dir)?;
    let mounted = std::process::Command::new("mount")
        .args(["-t", "ramfs", "ramfs"])
        .arg(&dir)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("skipped: could not mount a ramfs (needs root) at {dir:?}");
        std::fs::remove_dir(&dir)?;
        return Ok(());
    }
    let path = dir.join("file");
    let result = async {
        let strict = OpenOptions::new()
            .write(true)
            .create(true)
            .direct(true)
            .direct_strict(true)
            .open(&path)
            .await;
        let err = strict.unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("O_DIRECT"), "{err}");
        let lenient = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .direct(true)
            .open(&path)
            .await?;
        assert_eq!(lenient.direct_alignment(), None, "buffered on ramfs");
        let (res, _) = lenient.write_all_at(b"buffered".to_vec(), 3).await;
        res?;
        let (res, buf) = lenient.read_at(Vec::with_capacity(16), 0).await;
        assert_eq!(&buf[..res?], b"\0\0\0buffered");
        io::Result::Ok(())
    }
    .await;
    let _ = std::process::Command::new("umount").arg(&dir).status();
    let _ = std::fs::remove_dir(&dir);
    result
}

#[test]
fn fixed_buf_pools_reject_bad_sizes() {
    use shardio::buf::FixedBufPool;
    for (count, size) in [(0, 4096), (1, 0), (20_000, 4096), (1, 2 << 30)] {
        let e = FixedBufPool::new(count, size).unwrap_err();
        assert_eq!(
            e.kind(),
            io::ErrorKind::InvalidInput,
            "{count} x {size}: {e}"
        );
    }
    let pool = FixedBufPool::new(2, 100).expect("pool");
    assert_eq!(pool.buf_size(), 4096, "rounded up to a page");
    let mut buf = pool.try_get().expect("a buffer");
    assert_eq!(buf.len(), 0);
    assert!(buf.set_len(4097).is_err());
    buf.set_len(4096).expect("within capacity");
    assert!(buf.iter().all(|&b| b == 0), "zeroed");
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fixed_buffers_write_and_read_back_with_o_direct_and_buffered() -> io::Result<()> {
    use shardio::buf::FixedBufPool;
    let pool = FixedBufPool::new(4, 8192)?;
    let before = shardio::metrics();
    for direct in [true, false] {
        let path = temp("fixed");
        let file = Arc::new(if direct {
            open_direct(&path).await?
        } else {
            File::create(&path).await?
        });
        // Writes from many tasks (on both workers' rings), then reads back.
        let mut tasks = Vec::new();
        for i in 0..16u64 {
            let (file, pool) = (Arc::clone(&file), pool.clone());
            tasks.push(tokio::spawn(async move {
                let mut buf = pool.get().await; // 16 tasks share 4 buffers
                for (j, b) in buf.as_mut_capacity().iter_mut().enumerate() {
                    *b = (i as usize * 31 + j) as u8;
                }
                buf.set_len(8192)?;
                let (res, _buf) = file.write_fixed_at(buf, i * 8192).await;
                assert_eq!(res?, 8192);
                io::Result::Ok(())
            }));
        }
        for t in tasks {
            t.await.expect("task")?;
        }
        file.sync_all().await?;
        for i in 0..16u64 {
            let buf = pool.get().await;
            let (res, buf) = file.read_fixed_at(buf, i * 8192).await;
            assert_eq!(res?, 8192);
            assert_eq!(buf.len(), 8192);
            assert!(
                buf.iter()
                    .enumerate()
                    .all(|(j, &b)| b == (i as usize * 31 + j) as u8),
                "block {i} (direct: {direct}) reads back as written"
            );
        }
        let (res, buf) = file.read_fixed_at(pool.get().await, 16 * 8192).await;
        assert_eq!(res?, 0, "end of file");
        assert_eq!(buf.len(), 0);
        drop(file);
        std::fs::remove_file(&path)?;
    }
    let after = shardio::metrics();
    if !after.fallback_active {
        assert!(
            after.ops_submitted >= before.ops_submitted + 64,
            "ran on the rings"
        );
        assert_eq!(
            after.ops_fallback, before.ops_fallback,
            "no fixed operation fell back: the pool registered on both rings"
        );
    }
    // Every buffer came back to the pool.
    let held: Vec<_> = (0..4).map(|_| pool.try_get().expect("returned")).collect();
    assert!(pool.try_get().is_none(), "only 4 buffers");
    drop(held);
    Ok(())
}

#[shardio::test]
async fn a_misaligned_fixed_read_is_refused_before_submission() -> io::Result<()> {
    let path = temp("fixed-misaligned");
    let file = open_direct(&path).await?;
    let pool = shardio::buf::FixedBufPool::new(1, 4096)?;
    let (res, buf) = file.read_fixed_at(pool.get().await, 100).await;
    assert_eq!(res.unwrap_err().kind(), io::ErrorKind::InvalidInput);
    drop(buf);
    assert!(pool.try_get().is_some(), "the buffer came back");
    std::fs::remove_file(&path)?;
    Ok(())
}

#[shardio::test]
async fn registering_fixed_buffers_does_not_wait_for_operations_in_flight() -> io::Result<()> {
    use tokio::io::AsyncReadExt;
    // A receive on an idle socket stays in flight on this thread's ring
    // while the first fixed operation registers the pool there.
    let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let _client = shardio::net::TcpStream::connect(addr).await?;
    let (mut idle, _) = listener.accept().await?;
    let waiting = tokio::spawn(async move {
        let mut b = [0u8; 1];
        idle.read(&mut b).await
    });
    tokio::task::yield_now().await; // the receive is armed
    let path = temp("fixed-quiet");
    let file = open_direct(&path).await?;
    let pool = shardio::buf::FixedBufPool::new(1, 4096)?;
    let mut buf = pool.get().await;
    buf.set_len(4096)?;
    let (res, _) = tokio::time::timeout(
        std::time::Duration::from_secs(30),
        file.write_fixed_at(buf, 0),
    )
    .await
    .expect("the fixed write did not wait for the idle receive");
    assert_eq!(res?, 4096);
    waiting.abort();
    std::fs::remove_file(&path)?;
    Ok(())
}

#[shardio::test]
async fn aligned_bufs_and_a_fixed_pool_share_a_ring() -> io::Result<()> {
    // One ring, both kinds of registered buffer in its table: arena chunks
    // and pool buffers must not take each other's slots.
    let pool = shardio::buf::FixedBufPool::new(2, 4096)?;
    let path = temp("arena-and-pool");
    let file = open_direct(&path).await?;
    let before = shardio::metrics();
    for i in 0..8u64 {
        let pos = i * 8192;
        let mut fixed = pool.get().await;
        fixed.set_len(4096)?;
        fixed.fill(0x10 + i as u8);
        let (res, _) = file.write_fixed_at(fixed, pos).await;
        assert_eq!(res?, 4096);
        let mut aligned = file.aligned_buf(4096)?;
        aligned.fill(0x80 + i as u8);
        let (res, _) = file.write_at(aligned, pos + 4096).await;
        assert_eq!(res?, 4096);
    }
    for i in 0..8u64 {
        let pos = i * 8192;
        let (res, aligned) = file.read_at(file.aligned_buf(4096)?, pos).await;
        assert_eq!(res?, 4096);
        assert!(
            aligned.iter().all(|&b| b == 0x10 + i as u8),
            "pool block {i}"
        );
        let (res, fixed) = file.read_fixed_at(pool.get().await, pos + 4096).await;
        assert_eq!(res?, 4096);
        assert!(
            fixed.iter().all(|&b| b == 0x80 + i as u8),
            "arena block {i}"
        );
    }
    let after = shardio::metrics();
    if !after.fallback_active {
        assert!(after.ops_registered_buf >= before.ops_registered_buf + 32);
        assert_eq!(after.ops_fallback, before.ops_fallback, "nothing fell back");
    }
    std::fs::remove_file(&path)
}

#[test]
fn aligned_bufs_beyond_the_arena_are_plain_heap_buffers() -> io::Result<()> {
    // Larger than the arena's biggest block, or aligned beyond a page.
    for (len, align) in [(2 << 20, 4096), (4096, 65536)] {
        let buf = AlignedBuf::new(len, align)?;
        assert_eq!(
            buf.len(),
            len.div_ceil(align) * align,
            "rounded up to the alignment"
        );
        assert_eq!(buf.as_ptr() as usize % align, 0);
        assert!(buf.iter().all(|&b| b == 0));
        assert!(format!("{buf:?}").contains("registered: false"), "{buf:?}");
    }
    let small = AlignedBuf::new(512, 512)?;
    assert!(
        format!("{small:?}").contains("registered: true"),
        "{small:?}"
    );
    Ok(())
}
