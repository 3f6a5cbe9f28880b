//! Shutting a runtime down with operations in flight: no hang, and every ring
//! of the runtime goes away once the kernel released its buffers.

use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use shardio::BuilderExt;
use shardio::fs::File;
use tokio::runtime::Runtime;

/// A pipe whose read end is a shardio `File`; the writer is kept so reads
/// stay pending instead of seeing end-of-file.
fn pipe() -> (Arc<File>, std::io::PipeWriter) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    let file = File::from_std(std::fs::File::from(OwnedFd::from(reader)));
    (Arc::new(file), writer)
}

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(shardio::Config::default())
        .build()
        .expect("runtime")
}

/// Starts `n` reads that never complete and waits until all were submitted.
fn start_pending_reads(rt: &Runtime, file: &Arc<File>, n: usize) {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    for _ in 0..n {
        let file = Arc::clone(file);
        let tx = tx.clone();
        rt.spawn(async move {
            let read = file.read_at(vec![0u8; 64], 0);
            tokio::pin!(read);
            // Poll once so the read is submitted, then report and keep waiting.
            let first = futures::poll!(read.as_mut());
            assert!(
                first.is_pending(),
                "a read on an empty pipe cannot complete"
            );
            tx.send(()).unwrap();
            let _ = read.await;
        });
    }
    drop(tx);
    rt.block_on(async {
        for _ in 0..n {
            rx.recv().await.expect("every task reports");
        }
    });
}

/// Waits (bounded) until the process has no more rings than `baseline`.
fn rings_return_to(baseline: u64) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if shardio::metrics().rings_alive <= baseline {
            return true;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    false
}

// One test per process state: nextest isolates them; under `cargo test` the
// ring counts of parallel tests would mix, so they share one body.
#[test]
fn shutdown_with_ops_in_flight_neither_hangs_nor_leaks_rings() {
    let baseline = shardio::metrics().rings_alive;
    for mode in ["drop", "shutdown_timeout", "shutdown_background"] {
        let (file, writer) = pipe();
        let rt = runtime();
        start_pending_reads(&rt, &file, 1_000);
        let fallback = shardio::metrics().fallback_active;
        if !fallback {
            assert!(
                shardio::metrics().rings_alive > baseline,
                "{mode}: rings exist"
            );
        }
        // On the fallback path reads of a pipe block threads of Tokio's
        // blocking pool, which `drop` waits for (as with tokio::fs): close
        // the pipe shortly after the shutdown starts so they end.
        let writer = if fallback {
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(200));
                drop(writer);
            });
            None
        } else {
            Some(writer)
        };
        let started = Instant::now();
        match mode {
            "drop" => drop(rt),
            "shutdown_timeout" => rt.shutdown_timeout(Duration::from_secs(5)),
            _ => rt.shutdown_background(),
        }
        let took = started.elapsed();
        drop(writer);
        assert!(
            took < Duration::from_secs(if fallback { 10 } else { 1 }),
            "{mode} took {took:?}"
        );
        assert!(
            rings_return_to(baseline),
            "{mode}: rings of the runtime still alive after 10 s"
        );
        drop(file);
    }
}

/// A socket read that runs on the blocking pool (a stream made on an
/// io_uring runtime, read from a runtime on the fallback path), dropped
/// with its stream, does not leave a blocking-pool thread waiting in `poll(2)`: the
/// runtime, whose shutdown waits for its blocking threads, shuts down.
#[test]
fn a_dropped_blocking_receive_lets_the_runtime_shut_down() {
    use tokio::io::AsyncReadExt;

    let uring = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(shardio::Config::default())
        .build()
        .expect("runtime");
    // A connected pair whose peer never writes: a read waits for ever.
    let (mut stream, _peer) = uring
        .block_on(async {
            let listener = shardio::net::TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let (stream, accepted) =
                tokio::join!(shardio::net::TcpStream::connect(addr), listener.accept());
            std::io::Result::Ok((stream?, accepted?.0))
        })
        .expect("connected pair");
    if shardio::metrics().fallback_active {
        // The stream is one of Tokio's: nothing of shardio's runs it.
        eprintln!("skipped: the process runs on the fallback path");
        return;
    }
    let fallback = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(shardio::Config::default().force_fallback(true))
        .build()
        .expect("fallback runtime");
    let before = shardio::metrics().ops_fallback;
    let mut buf = [0u8; 16];
    let read = fallback.block_on(async {
        tokio::time::timeout(Duration::from_millis(50), stream.read(&mut buf)).await
    });
    assert!(
        read.is_err(),
        "nothing was written, the read must time out: {read:?}"
    );
    assert!(
        shardio::metrics().ops_fallback > before,
        "the read did not run on the blocking pool; the test shows nothing"
    );
    // The stream keeps its pending receive (as it keeps an armed one on
    // io_uring); dropping it drops the operation.
    drop(stream);
    let (done_tx, done_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        drop(fallback);
        let _ = done_tx.send(());
    });
    assert!(
        done_rx.recv_timeout(Duration::from_secs(20)).is_ok(),
        "the fallback runtime did not shut down: its blocking thread still waits for the dropped read"
    );
}
