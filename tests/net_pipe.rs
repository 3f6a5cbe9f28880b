//! shardio::net::unix::pipe behaves like Tokio's.

use std::io;
use std::time::Duration;

use shardio::net::unix::pipe;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn bounded<T>(f: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(20), f)
        .await
        .expect("test timed out after 20 s")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mebibyte_through_a_pipe_then_eof() -> io::Result<()> {
    bounded(async {
        let (mut tx, mut rx) = pipe::pipe()?;
        let data: Vec<u8> = (0..1024 * 1024).map(|i: u32| (i % 251) as u8).collect();
        let sent = data.clone();
        let writer = tokio::spawn(async move {
            tx.write_all(&sent).await?;
            io::Result::Ok(())
        });
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await?;
        writer.await.map_err(io::Error::other)??;
        assert!(got == data, "got {} of {} bytes", got.len(), data.len());
        Ok(())
    })
    .await
}

#[tokio::test]
async fn try_read_write_readiness_and_fds() -> io::Result<()> {
    bounded(async {
        let (tx, rx) = pipe::pipe()?;
        let mut buf = [0u8; 8];
        assert_eq!(
            rx.try_read(&mut buf).unwrap_err().kind(),
            io::ErrorKind::WouldBlock
        );
        let pending = tokio::time::timeout(Duration::from_millis(50), rx.readable()).await;
        assert!(pending.is_err(), "an empty pipe is not readable");
        tx.writable().await?;
        assert_eq!(tx.try_write(b"abc")?, 3);
        rx.readable().await?;
        let mut v = Vec::new();
        assert_eq!(rx.try_read_buf(&mut v)?, 3);
        assert_eq!(v, b"abc");
        // Fill the pipe: try_write says WouldBlock, writable waits.
        let chunk = [7u8; 4096];
        loop {
            match tx.try_write(&chunk) {
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        let full = tokio::time::timeout(Duration::from_millis(50), tx.writable()).await;
        assert!(full.is_err(), "a full pipe is not writable");
        let mut big = vec![0u8; 1 << 20];
        while rx.try_read(&mut big).is_ok() {}
        tx.writable().await?;
        // try_io runs the caller's call.
        assert_eq!(tx.try_io(|| Ok(5))?, 5);
        // Ends hand their fds back; the pipe still works.
        let fd = tx.into_blocking_fd()?;
        let mut file = std::fs::File::from(fd);
        std::io::Write::write_all(&mut file, b"blocking")?;
        drop(file);
        let mut rx = rx;
        let mut rest = Vec::new();
        rx.read_to_end(&mut rest).await?;
        assert_eq!(rest, b"blocking");
        Ok(())
    })
    .await
}

#[tokio::test]
async fn fifo_open_options_and_checks() -> io::Result<()> {
    bounded(async {
        let dir = std::env::temp_dir().join(format!("shardio-fifo-{}", std::process::id()));
        let _ = std::fs::remove_file(&dir);
        let c = std::ffi::CString::new(dir.as_os_str().as_encoded_bytes()).expect("no NUL");
        // SAFETY: a valid NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        // No reader yet: opening the sender fails with ENXIO, as in Tokio.
        let err = pipe::OpenOptions::new().open_sender(&dir).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::ENXIO));
        let mut rx = pipe::OpenOptions::new().open_receiver(&dir)?;
        let mut tx = pipe::OpenOptions::new().open_sender(&dir)?;
        tx.write_all(b"fifo").await?;
        drop(tx);
        let mut got = Vec::new();
        rx.read_to_end(&mut got).await?;
        assert_eq!(got, b"fifo");
        // Not a pipe: refused unless unchecked.
        let file = std::fs::File::open("/dev/null")?;
        assert_eq!(
            pipe::Receiver::from_file(file).unwrap_err().kind(),
            io::ErrorKind::InvalidInput
        );
        std::fs::remove_file(&dir)
    })
    .await
}
