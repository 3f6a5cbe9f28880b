//! The stall detector. With `--cfg tokio_unstable`: long polls are reported
//! while still running, with a backtrace naming the culprit; short ones are
//! not; reports are rate limited. Without it: the option is an error.

#[cfg(not(tokio_unstable))]
#[test]
fn stall_threshold_without_tokio_unstable_is_an_error() {
    let err = shardio::Config::default()
        .stall_threshold(std::time::Duration::from_millis(10))
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
    assert!(err.to_string().contains("tokio_unstable"), "{err}");
}

#[cfg(tokio_unstable)]
mod unstable {
    use std::io::{self, Write};
    use std::sync::{Arc, Mutex, OnceLock};
    use std::time::{Duration, Instant};

    use shardio::{BuilderExt, Config};

    /// Everything `tracing` printed in this process.
    fn log() -> &'static Arc<Mutex<Vec<u8>>> {
        static LOG: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
        LOG.get_or_init(|| {
            let buf = Arc::new(Mutex::new(Vec::new()));
            let sink = Arc::clone(&buf);
            let subscriber = tracing_subscriber::fmt()
                .with_writer(move || Sink(Arc::clone(&sink)))
                .with_ansi(false)
                .finish();
            tracing::subscriber::set_global_default(subscriber).expect("one subscriber");
            buf
        })
    }

    struct Sink(Arc<Mutex<Vec<u8>>>);

    impl Write for Sink {
        fn write(&mut self, b: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Stall reports mentioning `marker` (a worker thread name).
    fn reports(marker: &str) -> Vec<String> {
        let text = String::from_utf8_lossy(&log().lock().unwrap()).into_owned();
        text.split("\n20")
            .filter(|entry| entry.contains("shardio::stall") && entry.contains(marker))
            .map(str::to_owned)
            .collect()
    }

    fn runtime(name: &str, threshold_ms: u64, per_minute: u32) -> tokio::runtime::Runtime {
        log();
        let config = Config::default()
            .stall_threshold(Duration::from_millis(threshold_ms))
            .expect("tokio_unstable is on")
            .stall_reports_per_minute(per_minute);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name(name)
            .enable_all()
            .shardio(config)
            .build()
            .expect("runtime")
    }

    #[inline(never)]
    fn spin_for_a_while(d: Duration) -> u64 {
        let start = Instant::now();
        let mut x = 0u64;
        while start.elapsed() < d {
            x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
        }
        x
    }

    #[inline(never)]
    fn sleep_in_async_code(d: Duration) {
        std::thread::sleep(d);
    }

    fn eventually(what: &str, mut cond: impl FnMut() -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while !cond() {
            assert!(Instant::now() < deadline, "timed out waiting until {what}");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_busy_loop_is_reported_once_with_its_function_in_the_backtrace() {
        let rt = runtime("stall-busy", 20, 5);
        rt.block_on(async {
            tokio::spawn(async { spin_for_a_while(Duration::from_millis(200)) })
                .await
                .expect("task");
        });
        eventually("the stall is reported", || {
            !reports("stall-busy").is_empty()
        });
        let found = reports("stall-busy");
        assert_eq!(found.len(), 1, "one report per stalled poll: {found:#?}");
        assert!(
            found[0].contains("spin_for_a_while"),
            "backtrace names the culprit:\n{}",
            found[0]
        );
        let stats = shardio::metrics().stalls;
        let worker = stats
            .iter()
            .find(|s| s.thread.contains("stall-busy"))
            .expect("worker stats");
        assert_eq!(worker.stalls, 1);
        assert!(
            worker.longest_poll >= Duration::from_millis(150),
            "{worker:?}"
        );
    }

    #[test]
    fn a_blocking_sleep_is_reported() {
        let rt = runtime("stall-sleep", 20, 5);
        rt.block_on(async {
            tokio::spawn(async { sleep_in_async_code(Duration::from_millis(200)) })
                .await
                .expect("task");
        });
        eventually("the stall is reported", || {
            !reports("stall-sleep").is_empty()
        });
        let found = reports("stall-sleep");
        assert!(found[0].contains("sleep_in_async_code"), "{}", found[0]);
    }

    #[test]
    fn short_polls_are_not_reported() {
        let rt = runtime("stall-none", 50, 5);
        rt.block_on(async {
            for _ in 0..200 {
                tokio::spawn(async {
                    shardio::nop().await.expect("nop");
                    tokio::task::yield_now().await;
                })
                .await
                .expect("task");
            }
        });
        std::thread::sleep(Duration::from_millis(150));
        assert!(reports("stall-none").is_empty());
        let stats = shardio::metrics().stalls;
        if let Some(worker) = stats.iter().find(|s| s.thread.contains("stall-none")) {
            assert_eq!(worker.stalls, 0, "{worker:?}");
        }
    }

    #[test]
    fn reports_are_rate_limited_under_100_stalls() {
        let rt = runtime("stall-many", 5, 5);
        rt.block_on(async {
            for _ in 0..100 {
                tokio::spawn(async { spin_for_a_while(Duration::from_millis(15)) })
                    .await
                    .expect("task");
            }
        });
        // The first report symbolizes the test binary's debug info, which
        // can take seconds; wait for it (bounded), then check the limit.
        let waited = Instant::now();
        while reports("stall-many").is_empty() && waited.elapsed() < Duration::from_secs(30) {
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(100));
        let found = reports("stall-many");
        assert!(
            !found.is_empty() && found.len() <= 5,
            "{} reports",
            found.len()
        );
        let stats = shardio::metrics().stalls;
        let worker = stats
            .iter()
            .find(|s| s.thread.contains("stall-many"))
            .expect("stats");
        assert!(
            worker.stalls >= 80,
            "most of the 100 long polls were counted: {worker:?}"
        );
    }
}
