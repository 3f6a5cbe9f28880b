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
