//! Async-worker cores: SQ-poll threads and io-wq pools confined to the
//! configured cpuset, one poll thread per group (not per ring), visible in
//! metrics and in /proc.

use std::io;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use shardio::{BuilderExt, Config};

/// Tests in this file look at process-wide kernel threads: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

#[derive(Debug)]
struct KernelThread {
    comm: String,
    cpus_allowed: String,
}

/// The io_uring kernel threads of this process (`iou-sqp-*`, `iou-wrk-*`).
fn io_uring_threads() -> Vec<KernelThread> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc/self/task").expect("/proc/self/task") {
        let dir = entry.expect("task entry").path();
        let Ok(comm) = std::fs::read_to_string(dir.join("comm")) else {
            continue; // the thread exited meanwhile
        };
        let comm = comm.trim().to_owned();
        if !comm.starts_with("iou-") {
            continue;
        }
        let Ok(status) = std::fs::read_to_string(dir.join("status")) else {
            continue;
        };
        let cpus_allowed = status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default();
        found.push(KernelThread { comm, cpus_allowed });
    }
    found
}

fn sq_poll_threads() -> Vec<KernelThread> {
    io_uring_threads()
        .into_iter()
        .filter(|t| t.comm.starts_with("iou-sqp-"))
        .collect()
}

/// Waits (bounded) for `cond`; kernel threads start and stop asynchronously.
fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// The last online CPU: the async-worker core of these tests.
fn worker_cpu() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get()) - 1
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("shardio-aw-{}-{name}", std::process::id()))
}

/// Runs file work (including fsyncs, which the kernel hands to io-wq) on
/// every worker of `rt`, so each thread creates its ring.
fn exercise(rt: &tokio::runtime::Runtime) -> io::Result<()> {
    rt.block_on(async {
        let mut tasks = Vec::new();
        for i in 0..16 {
            tasks.push(tokio::spawn(async move {
                let path = temp_path(&format!("f{i}"));
                let file = Arc::new(shardio::fs::File::create(&path).await?);
                for round in 0..8u64 {
                    let (res, _) = file.write_at(vec![round as u8; 4096], round * 4096).await;
                    res?;
                    file.sync_all().await?;
                    tokio::task::yield_now().await;
                }
                let (res, buf) = file.read_at(Vec::with_capacity(4096), 7 * 4096).await;
                assert_eq!(res?, 4096);
                assert!(buf.iter().all(|&b| b == 7));
                std::fs::remove_file(&path)?;
                io::Result::Ok(())
            }));
        }
        for task in tasks {
            task.await.expect("task")?;
        }
        Ok(())
    })
}

#[test]
fn bad_cpusets_and_limits_are_errors_before_any_runtime_exists() {
    for bad in ["", "a", "3-1", "100000", "4096"] {
        let err = Config::default().async_workers(bad).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{bad:?}");
        assert!(err.to_string().contains("async_workers"), "{err}");
    }
    let missing = Config::default().async_workers("1023").unwrap_err();
    assert!(missing.to_string().contains("does not exist"), "{missing}");
    assert!(Config::default().pin_workers("x").is_err());
    assert!(Config::default().sq_poll_idle(Duration::ZERO).is_err());
    assert!(Config::default().iowq_max_workers(0, 8).is_err());
    assert!(Config::default().async_workers("0").is_ok());
}

#[test]
fn sq_poll_and_io_wq_threads_stay_on_the_async_worker_core() -> io::Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cpu = worker_cpu();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(Config::default().async_workers(&cpu.to_string())?)
        .build()?;
    exercise(&rt)?;
    let metrics = shardio::metrics();
    if metrics.fallback_active {
        assert!(metrics.worker_groups.is_empty());
        assert!(
            sq_poll_threads().is_empty(),
            "no io_uring threads on the fallback path"
        );
        return Ok(());
    }
    // 2 workers, 1 core: one group that every ring of the runtime joined.
    assert_eq!(metrics.worker_groups.len(), 1, "{metrics:#?}");
    let group = &metrics.worker_groups[0];
    assert_eq!(group.cpu, cpu);
    assert!(
        group.rings.len() >= 2,
        "workers and the block_on thread share the group: {group:?}"
    );
    for ring in &metrics.rings {
        assert_eq!(ring.sq_poll_cpu, Some(cpu), "{ring:?}");
        assert_eq!(ring.group, Some(group.id), "{ring:?}");
    }
    // One SQ-poll thread for the whole group, on the configured core.
    let sqp = sq_poll_threads();
    assert_eq!(
        sqp.len(),
        1,
        "one poll thread per group, not per ring: {sqp:?}"
    );
    let expected = cpu.to_string();
    let threads = io_uring_threads();
    assert!(
        threads.iter().any(|t| t.comm.starts_with("iou-wrk-")),
        "fsyncs run on io-wq workers: {threads:?}"
    );
    for thread in &threads {
        assert_eq!(
            thread.cpus_allowed, expected,
            "{thread:?} escaped the async-worker core"
        );
    }
    drop(rt);
    eventually("the SQ-poll thread exits with its rings", || {
        sq_poll_threads().is_empty()
    });
    Ok(())
}

#[test]
fn without_async_workers_rings_are_plain() -> io::Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    eventually("earlier SQ-poll threads exited", || {
        sq_poll_threads().is_empty()
    });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(Config::default())
        .build()?;
    exercise(&rt)?;
    let metrics = shardio::metrics();
    assert!(metrics.worker_groups.is_empty(), "{metrics:#?}");
    assert!(metrics.rings.iter().all(|r| r.sq_poll_cpu.is_none()));
    assert!(sq_poll_threads().is_empty());
    Ok(())
}

#[test]
fn pinned_workers_run_on_the_application_cores() -> io::Result<()> {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let app = 0usize;
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let config = Config::default()
        .pin_workers(&app.to_string())?
        .on_thread_start(move || {
            // SAFETY: sched_getcpu has no preconditions.
            let cpu = unsafe { libc::sched_getcpu() };
            record.lock().unwrap().push(cpu);
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(config)
        .build()?;
    let cpus = rt.block_on(async {
        let mut cpus = Vec::new();
        for _ in 0..8 {
            cpus.push(
                tokio::spawn(async {
                    // SAFETY: sched_getcpu has no preconditions.
                    unsafe { libc::sched_getcpu() }
                })
                .await
                .expect("task"),
            );
        }
        cpus
    });
    assert!(
        cpus.iter().all(|&c| c == app as i32),
        "tasks ran on {cpus:?}"
    );
    let started = seen.lock().unwrap().clone();
    assert!(!started.is_empty(), "the user's on_thread_start still runs");
    assert!(
        started.iter().all(|&c| c == app as i32),
        "hooks ran on {started:?}"
    );
    Ok(())
}
