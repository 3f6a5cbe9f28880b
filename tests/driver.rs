//! The driver core under Tokio's schedulers: migration, parked and busy
//! workers, cancellation without leaks, scale, ring lifetimes, errors.

use std::collections::HashSet;
use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shardio::fs::File;
use shardio::{BuilderExt, Config};

/// Tests that look at process-wide counts (fds, rings) run one at a time
/// when the harness runs tests in parallel threads (`cargo test`).
static SERIAL: Mutex<()> = Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

fn runtime(workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .enable_all()
        .shardio(Config::default())
        .build()
        .expect("runtime")
}

/// A pipe whose read end is a shardio `File` (reads ignore the position).
fn pipe() -> (Arc<File>, std::io::PipeWriter) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    (
        Arc::new(File::from_std(std::fs::File::from(OwnedFd::from(reader)))),
        writer,
    )
}

/// Open pipe fds of this process: the fds the cancelled reads kept alive.
/// (Ring and eventfd fds are per thread and legitimately appear as workers
/// do their first I/O.)
fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .expect("/proc/self/fd")
        .flatten()
        .filter(|e| {
            std::fs::read_link(e.path()).is_ok_and(|t| t.to_string_lossy().starts_with("pipe:"))
        })
        .count()
}

fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn ops_complete_for_tasks_that_migrate_between_workers() {
    let rt = runtime(2);
    let threads_seen = Arc::new(Mutex::new(HashSet::new()));
    let migrations = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..64 {
            let (seen, migrations) = (Arc::clone(&threads_seen), Arc::clone(&migrations));
            tasks.push(tokio::spawn(async move {
                for _ in 0..50 {
                    let before = std::thread::current().id();
                    let op = shardio::nop();
                    tokio::task::yield_now().await; // created here, polled later
                    op.await?;
                    tokio::task::yield_now().await;
                    let after = std::thread::current().id();
                    if before != after {
                        migrations.fetch_add(1, Ordering::Relaxed);
                    }
                    seen.lock().unwrap().insert(after);
                }
                io::Result::Ok(())
            }));
        }
        for task in tasks {
            task.await.expect("task").expect("nop");
        }
    });
    println!(
        "threads used: {}, migrations between submit and completion: {}",
        threads_seen.lock().unwrap().len(),
        migrations.load(Ordering::Relaxed)
    );
    assert!(
        threads_seen.lock().unwrap().len() >= 2,
        "both workers ran tasks"
    );
}

#[test]
fn completion_arrives_while_every_worker_is_parked() {
    let rt = runtime(2);
    let (file, mut writer) = pipe();
    let reader = rt.spawn({
        let file = Arc::clone(&file);
        async move { file.read_at(vec![0u8; 16], 0).await }
    });
    // Every worker has nothing to do now and parks.
    std::thread::sleep(Duration::from_millis(200));
    writer.write_all(b"wake").expect("write");
    let (res, buf) = rt
        .block_on(async { tokio::time::timeout(Duration::from_secs(10), reader).await })
        .expect("the read completed within 10 s")
        .expect("task");
    assert_eq!(res.expect("read"), 4);
    assert_eq!(&buf[..4], b"wake");
}

#[test]
fn completion_reaches_a_busy_worker_that_never_parks() {
    // One worker, kept busy by a task that only yields: it never parks.
    let rt = runtime(1);
    let (file, mut writer) = pipe();
    let done = Arc::new(AtomicBool::new(false));
    let spinner = rt.spawn({
        let done = Arc::clone(&done);
        async move {
            let start = Instant::now();
            while !done.load(Ordering::Acquire) {
                assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "the read never completed"
                );
                tokio::task::yield_now().await;
            }
        }
    });
    let reader = rt.spawn({
        let (file, done) = (Arc::clone(&file), Arc::clone(&done));
        async move {
            let out = file.read_at(vec![0u8; 16], 0).await;
            done.store(true, Ordering::Release);
            out
        }
    });
    std::thread::sleep(Duration::from_millis(100));
    writer.write_all(b"busy").expect("write");
    rt.block_on(async {
        spinner.await.expect("spinner saw the completion");
        let (res, buf) = reader.await.expect("reader");
        assert_eq!(res.expect("read"), 4);
        assert_eq!(&buf[..4], b"busy");
    });
}

#[test]
fn dropping_10k_in_flight_ops_leaks_no_fd_and_frees_no_buffer_early() {
    let _serial = serial();
    let rt = runtime(2);
    rt.block_on(shardio::nop()).expect("warm up the ring");
    let baseline = open_fds();
    let cancelled_before = shardio::metrics().ops_cancelled;
    let fallback = shardio::metrics().fallback_active;
    let pipes: Vec<_> = (0..100).map(|_| pipe()).collect();
    if !fallback {
        rt.block_on(async {
            let mut tasks = Vec::new();
            for (file, _) in &pipes {
                for _ in 0..100 {
                    let file = Arc::clone(file);
                    tasks.push(tokio::spawn(async move {
                        let _ = file.read_at(vec![0xAAu8; 64], 0).await;
                        unreachable!("nothing is ever written before the abort");
                    }));
                }
            }
            // Let every read reach the kernel, then drop them all.
            tokio::time::sleep(Duration::from_millis(200)).await;
            for task in &tasks {
                task.abort();
            }
            for task in tasks {
                assert!(task.await.expect_err("aborted").is_cancelled());
            }
        });
        eventually("the kernel confirmed every cancel", || {
            shardio::metrics().ops_cancelled - cancelled_before >= 10_000
        });
        // Data written now must reach a new read intact: no cancelled read
        // consumed it, and no freed buffer was written into.
        let (file, writer) = &pipes[0];
        (&*writer).write_all(b"after").expect("write");
        let (res, buf) = rt.block_on(file.read_at(Vec::with_capacity(16), 0));
        assert_eq!(&buf[..res.expect("read")], b"after");
    }
    drop(pipes);
    eventually("pipe fds return to the baseline", || open_fds() <= baseline);
}

#[test]
fn ten_thousand_concurrent_ops() {
    let _serial = serial();
    let rt = runtime(2);
    let before = shardio::metrics();
    let path = std::env::temp_dir().join(format!("shardio-driver-{}", std::process::id()));
    std::fs::write(&path, b"0123456789abcdef").expect("write");
    rt.block_on(async {
        let file = Arc::new(File::open(&path).await?);
        let mut tasks = Vec::new();
        // 10,000 ring round trips (nops) and, alongside, 10,000 reads (which
        // the page cache may serve inline).
        for i in 0..20_000u64 {
            let file = Arc::clone(&file);
            tasks.push(tokio::spawn(async move {
                if i % 2 == 0 {
                    shardio::nop().await?;
                } else {
                    let (res, buf) = file.read_at(Vec::with_capacity(4), i % 12).await;
                    assert_eq!(res?, 4);
                    assert_eq!(buf[0], b"0123456789abcdef"[(i % 12) as usize]);
                }
                io::Result::Ok(())
            }));
        }
        for task in tasks {
            task.await.expect("task")?;
        }
        io::Result::Ok(())
    })
    .expect("ops");
    std::fs::remove_file(&path).ok();
    let after = shardio::metrics();
    if after.fallback_active {
        assert!(after.ops_fallback - before.ops_fallback >= 10_000);
    } else {
        assert!(after.ops_completed - before.ops_completed >= 10_000);
    }
}

#[test]
fn a_ring_of_a_dropped_runtime_is_not_reused() {
    let _serial = serial();
    let current_thread = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .shardio(Config::default())
            .build()
            .expect("runtime")
    };
    let rt = current_thread();
    rt.block_on(shardio::nop()).expect("nop");
    let created = shardio::metrics().rings_created;
    drop(rt);
    let rt = current_thread();
    rt.block_on(shardio::nop()).expect("nop on the new runtime");
    let metrics = shardio::metrics();
    if !metrics.fallback_active {
        assert!(
            metrics.rings_created > created,
            "the new runtime got a ring of its own on the same thread"
        );
    }
}

#[test]
fn errors_are_the_kernels_and_outside_a_runtime_is_an_error_not_a_panic() {
    let err = futures::executor::block_on(shardio::nop()).expect_err("no runtime");
    assert!(err.to_string().contains("Tokio runtime"), "{err}");

    let rt = runtime(1);
    rt.block_on(async {
        let path = std::env::temp_dir().join(format!("shardio-wo-{}", std::process::id()));
        let file = File::create(&path).await?;
        // `create` opens read-write; a write-only fd cannot be read.
        let write_only = File::from_std(std::fs::OpenOptions::new().write(true).open(&path)?);
        let (res, _) = write_only.read_at(vec![0u8; 4], 0).await;
        assert_eq!(res.expect_err("EBADF").raw_os_error(), Some(libc::EBADF));
        let missing = File::open("/definitely/not/here")
            .await
            .expect_err("missing");
        assert_eq!(missing.kind(), io::ErrorKind::NotFound);
        drop(file);
        std::fs::remove_file(&path)
    })
    .expect("io");
}

#[test]
fn runtime_without_io_driver_gets_an_error() {
    if shardio::metrics().fallback_active {
        return; // no ring, nothing to watch: the fallback needs no reactor
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let err = rt.block_on(shardio::nop()).expect_err("no I/O driver");
    assert!(err.to_string().contains("enable_io"), "{err}");
}
