//! `shardio::fs::File`: owned-buffer positional I/O for every buffer type,
//! end of file, errors, and one file shared by many tasks.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use shardio::fs::File;

fn temp_path(name: &str) -> std::path::PathBuf {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    std::env::temp_dir().join(format!(
        "shardio-fs-file-{}-{}-{name}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

#[shardio::test]
async fn round_trip_with_every_buffer_type() -> io::Result<()> {
    let path = temp_path("types");
    let file = File::create(&path).await?;
    let (res, _) = file.write_at(b"vec-".to_vec(), 0).await;
    assert_eq!(res?, 4);
    let (res, _) = file.write_at(Box::<[u8]>::from(&b"box-"[..]), 4).await;
    assert_eq!(res?, 4);
    let (res, _) = file.write_at(bytes::Bytes::from_static(b"bytes-"), 8).await;
    assert_eq!(res?, 6);
    let (res, _) = file.write_at("str", 14).await;
    assert_eq!(res?, 3);
    file.sync_all().await?;
    file.sync_data().await?;

    let file = File::open(&path).await?;
    let (res, vec) = file.read_at(Vec::with_capacity(64), 0).await;
    assert_eq!(&vec[..res?], b"vec-box-bytes-str");
    let (res, boxed) = file.read_at(vec![0u8; 3].into_boxed_slice(), 4).await;
    assert_eq!(res?, 3);
    assert_eq!(&boxed[..], b"box");
    let (res, bm) = file.read_at(bytes::BytesMut::with_capacity(5), 8).await;
    assert_eq!(res?, 5);
    assert_eq!(&bm[..], b"bytes");
    // A Vec that already holds data is overwritten from its start; its
    // length becomes at least the count read.
    let (res, longer) = file.read_at(vec![b'x'; 8], 0).await;
    assert_eq!(res?, 8);
    assert_eq!(&longer[..], b"vec-box-");
    std::fs::remove_file(&path)
}

#[shardio::test]
async fn end_of_file_and_errors_as_tokio_reports_them() -> io::Result<()> {
    let path = temp_path("eof");
    std::fs::write(&path, b"abc")?;
    let file = File::open(&path).await?;
    let (res, _) = file.read_at(Vec::with_capacity(8), 3).await;
    assert_eq!(res?, 0, "reading at the end returns 0");
    let (res, _) = file.read_at(Vec::with_capacity(8), 1000).await;
    assert_eq!(res?, 0, "reading past the end returns 0");
    let (res, _) = file.write_at(b"nope".to_vec(), 0).await;
    assert_eq!(
        res.unwrap_err().raw_os_error(),
        Some(libc::EBADF),
        "opened read-only"
    );

    let missing = File::open(temp_path("missing")).await.unwrap_err();
    assert_eq!(missing.kind(), io::ErrorKind::NotFound);
    let dir = File::create(std::env::temp_dir()).await.unwrap_err();
    assert_eq!(dir.kind(), io::ErrorKind::IsADirectory);
    let nul = File::open("bad\0path").await.unwrap_err();
    assert_eq!(nul.kind(), io::ErrorKind::InvalidInput);
    std::fs::remove_file(&path)
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_file_serves_64_tasks_at_different_offsets() -> io::Result<()> {
    const BLOCK: usize = 4096;
    let path = temp_path("shared");
    let data: Vec<u8> = (0..64 * BLOCK)
        .map(|i| (i / BLOCK) as u8 ^ (i as u8))
        .collect();
    std::fs::write(&path, &data)?;
    let file = Arc::new(File::open(&path).await?);
    let data = Arc::new(data);
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let (file, data) = (Arc::clone(&file), Arc::clone(&data));
            tokio::spawn(async move {
                for round in 0..20 {
                    let block = (i + round) % 64;
                    let offset = (block * BLOCK) as u64;
                    let (res, buf) = file.read_at(Vec::with_capacity(BLOCK), offset).await;
                    assert_eq!(res?, BLOCK);
                    assert!(
                        buf[..] == data[block * BLOCK..(block + 1) * BLOCK],
                        "block {block}"
                    );
                }
                io::Result::Ok(())
            })
        })
        .collect();
    for task in tasks {
        task.await.map_err(io::Error::other)??;
    }
    std::fs::remove_file(&path)
}
