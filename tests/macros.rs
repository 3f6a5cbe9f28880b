//! `#[shardio::main]` / `#[shardio::test]` build the runtimes they promise.
//! The compile errors for bad arguments are in `compile_fail.rs`.

use std::io;
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

#[shardio::test]
async fn default_flavor_is_current_thread() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    shardio::nop().await.expect("nop");
}

#[shardio::test(flavor = "current_thread")]
async fn current_thread_flavor() {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_with_two_workers() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(handle.metrics().num_workers(), 2);
    // An operation from a worker thread, not only from the `block_on` thread.
    tokio::spawn(shardio::nop())
        .await
        .expect("join")
        .expect("nop");
}

#[shardio::test(flavor = "multi_thread")]
async fn multi_thread_default_workers() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert!(handle.metrics().num_workers() >= 1);
}

#[shardio::test]
async fn returns_io_result_with_question_mark() -> io::Result<()> {
    shardio::nop().await?;
    shardio::nop().await?;
    Ok(())
}

#[shardio::test]
async fn early_return_from_the_body() -> Result<(), Box<dyn std::error::Error>> {
    for i in 0.. {
        shardio::nop().await?;
        if i == 2 {
            return Ok(());
        }
    }
    Err("unreachable".into())
}

#[shardio::test(start_paused = true)]
async fn start_paused_makes_an_hour_of_sleep_instant() {
    let wall = std::time::Instant::now();
    let clock = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(clock.elapsed() >= Duration::from_secs(3600));
    assert!(wall.elapsed() < Duration::from_secs(60));
}

mod renamed {
    use shardio as sh;

    #[sh::test(crate = "sh")]
    async fn crate_argument_names_the_path() {
        sh::nop().await.expect("nop");
    }

    #[sh::test(crate = "sh", flavor = "multi_thread", worker_threads = 1)]
    async fn crate_argument_with_other_arguments() {
        assert_eq!(tokio::runtime::Handle::current().metrics().num_workers(), 1);
        sh::nop().await.expect("nop");
    }
}

#[shardio::test]
#[should_panic(expected = "boom")]
async fn other_attributes_are_kept() {
    shardio::nop().await.expect("nop");
    panic!("boom");
}

/// Listed as ignored: `#[ignore]` is kept (it passes when run all the same).
#[shardio::test]
#[ignore = "kept through #[shardio::test]"]
async fn ignore_is_kept() {
    shardio::nop().await.expect("nop");
}

#[shardio::test]
async fn inner_attributes_are_kept() {
    #![allow(unused_variables)]
    let unused = shardio::nop().await;
}

#[shardio::test]
async fn body_runs_with_the_runtime_context() {
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move { tx.send(shardio::nop().await.is_ok()) });
    assert!(rx.await.expect("sender dropped"));
}

static PARKS_A: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
static PARKS_B: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

fn counting_parks() -> shardio::Config {
    shardio::Config::default().on_thread_park(|| {
        PARKS_A.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
}

mod settings {
    pub(crate) fn fallible() -> std::io::Result<shardio::Config> {
        Ok(shardio::Config::default()
            .storage_submit_batch(2)?
            .on_thread_park(|| {
                super::PARKS_B.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }))
    }

    pub(crate) fn refused() -> std::io::Result<shardio::Config> {
        shardio::Config::default().ring_entries(0)
    }
}

/// `config = f` hands `f()`'s `Config` to the runtime: its park hook runs.
#[shardio::test(config = counting_parks)]
async fn config_from_a_function_reaches_the_runtime() {
    tokio::time::sleep(Duration::from_millis(5)).await;
    assert!(PARKS_A.load(std::sync::atomic::Ordering::Relaxed) > 0);
}

/// A path to a function returning `io::Result<Config>` works too, also on
/// `main` and with other arguments.
#[shardio::main(flavor = "multi_thread", worker_threads = 1, config = settings::fallible)]
async fn main_with_config() -> io::Result<()> {
    tokio::time::sleep(Duration::from_millis(5)).await;
    shardio::nop().await
}

#[test]
fn config_from_a_fallible_function_on_main() -> io::Result<()> {
    main_with_config()?;
    assert!(PARKS_B.load(std::sync::atomic::Ordering::Relaxed) > 0);
    Ok(())
}

/// The function's error stops the program before the runtime exists, with
/// the function's name and the error's cause.
#[shardio::test(config = settings::refused)]
#[should_panic(expected = "the configuration from `settings::refused` failed")]
async fn a_config_function_that_fails_panics_with_its_name_and_error() {
    unreachable!("the runtime must not start");
}
