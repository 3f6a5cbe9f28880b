//! Attaching shardio to Tokio runtimes: the builder extension, composed user
//! hooks, hand-wired hooks, plain runtimes, configuration errors, fallback.

use std::io;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use shardio::{BuilderExt, Config, FallbackReason};

#[derive(Default)]
struct Counts {
    start: AtomicUsize,
    stop: AtomicUsize,
    park: AtomicUsize,
    unpark: AtomicUsize,
}

/// Parks and wakes the workers a few times with real I/O in between.
async fn work() -> io::Result<()> {
    for _ in 0..5 {
        let tasks: Vec<_> = (0..8).map(|_| tokio::spawn(shardio::nop())).collect();
        for task in tasks {
            task.await.map_err(io::Error::other)??;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    Ok(())
}

#[test]
fn user_hooks_passed_through_config_still_run() -> io::Result<()> {
    let counts = Arc::new(Counts::default());
    let (a, b, c, d) = (
        Arc::clone(&counts),
        Arc::clone(&counts),
        Arc::clone(&counts),
        Arc::clone(&counts),
    );
    let config = Config::default()
        .on_thread_start(move || {
            a.start.fetch_add(1, Ordering::Relaxed);
        })
        .on_thread_stop(move || {
            b.stop.fetch_add(1, Ordering::Relaxed);
        })
        .on_thread_park(move || {
            c.park.fetch_add(1, Ordering::Relaxed);
        })
        .on_thread_unpark(move || {
            d.unpark.fetch_add(1, Ordering::Relaxed);
        });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .shardio(config)
        .build()?;
    rt.block_on(work())?;
    drop(rt);
    for (name, n) in [
        ("start", &counts.start),
        ("stop", &counts.stop),
        ("park", &counts.park),
        ("unpark", &counts.unpark),
    ] {
        assert!(
            n.load(Ordering::Relaxed) > 0,
            "the user's on_thread_{name} ran"
        );
    }
    Ok(())
}

#[test]
fn hooks_wired_by_hand_work() -> io::Result<()> {
    let hooks = shardio::hooks::Hooks::new(Config::default());
    let (start, stop, park, unpark) = (hooks.clone(), hooks.clone(), hooks.clone(), hooks);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || start.thread_start())
        .on_thread_stop(move || stop.thread_stop())
        .on_thread_park(move || park.thread_park())
        .on_thread_unpark(move || unpark.thread_unpark())
        .build()?;
    rt.block_on(work())
}

#[test]
fn plain_tokio_runtimes_need_no_extension() -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(work())?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(work())
}

#[test]
fn invalid_configuration_is_an_error_where_it_is_written() {
    for entries in [0, 40_000] {
        let err = Config::default().ring_entries(entries).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("ring_entries"), "{err}");
    }
    assert!(Config::default().ring_entries(1024).is_ok());
}

#[test]
fn forced_fallback_by_config_runs_ops_on_the_fallback_path() -> io::Result<()> {
    let before = shardio::metrics().ops_fallback;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(Config::default().force_fallback(true))
        .build()?;
    rt.block_on(work())?;
    let after = shardio::metrics();
    assert!(after.ops_fallback >= before + 40, "{after:?}");
    assert!(after.fallback_active);
    if std::env::var_os("SHARDIO_TEST_SECCOMP").is_some() {
        // Under `no-io-uring` the whole process has no io_uring: its reason
        // is the filter's, not this runtime's setting.
        assert!(
            matches!(
                after.fallback_reason,
                Some(FallbackReason::FilteredOrNotBuilt(_) | FallbackReason::Seccomp)
            ),
            "{after:?}"
        );
        return Ok(());
    }
    assert!(
        matches!(
            after.fallback_reason,
            Some(FallbackReason::ForcedByConfig | FallbackReason::ForcedByEnv)
        ),
        "{after:?}"
    );
    let reason = after.fallback_reason.unwrap().to_string();
    assert!(
        reason.contains("force_fallback") || reason.contains("SHARDIO_FORCE_FALLBACK"),
        "{reason}"
    );
    Ok(())
}

#[test]
fn metrics_say_which_path_is_active_and_why() -> io::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(Config::default())
        .build()?;
    rt.block_on(shardio::nop())?;
    let m = shardio::metrics();
    let forced = std::env::var("SHARDIO_FORCE_FALLBACK").is_ok_and(|v| v == "1");
    if forced {
        assert!(m.fallback_active);
        let reason = m.fallback_reason.expect("a reason");
        assert_eq!(reason, FallbackReason::ForcedByEnv);
        assert!(
            reason.to_string().contains("SHARDIO_FORCE_FALLBACK"),
            "{reason}"
        );
    } else if !m.fallback_active {
        // io_uring works on this machine: rings exist and ops went through them.
        assert!(m.rings_created > 0 && m.ops_submitted > 0, "{m:?}");
        assert!(m.fallback_reason.is_none());
    }
    Ok(())
}

#[test]
fn spin_before_park_is_bounded_and_keeps_completions_flowing() -> io::Result<()> {
    use std::time::Duration;
    let err = Config::default()
        .spin_before_park(Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .shardio(Config::default().spin_before_park(Duration::from_micros(50))?)
        .build()?;
    rt.block_on(async {
        // Reads that complete while the worker is about to park.
        let (reader, mut writer) = std::io::pipe()?;
        let file = std::sync::Arc::new(shardio::fs::File::from_std(std::fs::File::from(
            std::os::fd::OwnedFd::from(reader),
        )));
        let read = tokio::spawn({
            let file = std::sync::Arc::clone(&file);
            async move { file.read_at(vec![0u8; 8], 0).await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        std::io::Write::write_all(&mut writer, b"spun")?;
        let (res, buf) = tokio::time::timeout(Duration::from_secs(10), read)
            .await
            .map_err(io::Error::other)?
            .map_err(io::Error::other)?;
        assert_eq!(&buf[..res?], b"spun");
        work().await
    })
}

/// `SHARDIO_*` variables fill in the settings the code left alone, through
/// `BuilderExt` (and so the macros); a bad value names itself. Sets the
/// process environment: nextest runs each test in its own process, and the
/// variables are set before any other thread exists.
#[test]
fn environment_variables_configure_what_the_code_left_alone() -> io::Result<()> {
    // SAFETY: no other thread runs yet in this test's own process, so none
    // reads the environment while it changes.
    unsafe { std::env::set_var("SHARDIO_IO_INFLIGHT_CAP", "0") };
    let err = Config::from_env().unwrap_err();
    assert!(
        err.to_string().contains("SHARDIO_IO_INFLIGHT_CAP=0"),
        "{err}"
    );
    let panicked = std::panic::catch_unwind(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .shardio(Config::default());
    })
    .expect_err("a bad variable stops the builder");
    let message = panicked
        .downcast_ref::<String>()
        .cloned()
        .unwrap_or_default();
    assert!(message.contains("SHARDIO_IO_INFLIGHT_CAP=0"), "{message}");
    // The code's own setting, or `use_env(false)`, leaves the variable out.
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(Config::default().io_inflight_cap(4)?);
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(Config::default().use_env(false));
    // SAFETY: as above; the runtimes built were dropped with no thread left.
    unsafe {
        std::env::remove_var("SHARDIO_IO_INFLIGHT_CAP");
        std::env::set_var("SHARDIO_ASYNC_WORKERS", "0");
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .shardio(Config::default())
        .build()?;
    rt.block_on(shardio::nop())?;
    let m = shardio::metrics();
    if !m.fallback_active {
        // The ring got an SQ-poll thread on CPU 0, as the variable said.
        assert!(m.worker_groups.iter().any(|g| g.cpu == 0), "{m:?}");
    }
    Ok(())
}
