//! `#[shardio::main]` / `#[shardio::test]` build the runtimes they promise.

use std::io;
use std::time::Duration;

use tokio::runtime::{Handle, RuntimeFlavor};

#[shardio::test]
async fn default_test_flavor_is_current_thread_and_ops_work() -> io::Result<()> {
    assert_eq!(
        Handle::current().runtime_flavor(),
        RuntimeFlavor::CurrentThread
    );
    shardio::nop().await?;
    Ok(())
}

#[shardio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multi_thread_with_two_workers() {
    let handle = Handle::current();
    assert_eq!(handle.runtime_flavor(), RuntimeFlavor::MultiThread);
    assert_eq!(handle.metrics().num_workers(), 2);
    shardio::nop().await.expect("nop");
}

#[shardio::test(start_paused = true)]
async fn start_paused_makes_sleep_instant() {
    let started = std::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    assert!(started.elapsed() < Duration::from_secs(60));
}

mod renamed {
    use shardio as sh;

    #[sh::test(crate = "sh")]
    async fn crate_argument_names_the_path() {
        sh::nop().await.expect("nop");
    }
}

#[shardio::test]
#[should_panic(expected = "boom")]
async fn other_attributes_are_kept() {
    panic!("boom");
}

#[test]
fn compile_errors_for_bad_arguments() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass_*.rs");
    cases.compile_fail("tests/ui/fail_*.rs");
}
