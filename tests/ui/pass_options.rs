//! Every argument, `#[shardio::main]` on functions other than `main`, a
//! renamed crate path, and return types: coerced, and unnameable (`impl Trait`).
use std::time::Duration;

use shardio as sh;

#[sh::main(crate = "sh", flavor = "current_thread", start_paused = true)]
async fn paused() -> Result<u64, Box<dyn std::error::Error>> {
    let start = tokio::time::Instant::now();
    tokio::time::sleep(Duration::from_secs(3600)).await;
    sh::nop().await?;
    Ok(start.elapsed().as_secs())
}

#[shardio::main(flavor = "multi_thread", worker_threads = 3)]
async fn workers(extra: usize) -> usize {
    tokio::runtime::Handle::current().metrics().num_workers() + extra
}

#[shardio::main(flavor = "current_thread", start_paused = false)]
async fn displayed() -> impl std::fmt::Display {
    shardio::nop().await.map(|()| "ok").unwrap_or("nop failed")
}

// The body's values are coerced to the return type, as in an `async fn`.
#[shardio::main(flavor = "current_thread")]
async fn boxed(early: bool) -> Result<Box<dyn std::fmt::Display>, Box<dyn std::error::Error>> {
    if early {
        return Err("early".into());
    }
    shardio::nop().await?;
    Ok(Box::new(7))
}

#[shardio::main(flavor = "current_thread")]
async fn shown(early: bool) -> Box<dyn std::fmt::Display> {
    if early {
        return Box::new("early");
    }
    shardio::nop().await.expect("nop");
    Box::new(7)
}

fn main() {
    assert!(paused().expect("paused") >= 3600);
    assert_eq!(workers(1), 4);
    assert_eq!(displayed().to_string(), "ok");
    assert!(boxed(true).is_err());
    assert_eq!(boxed(false).expect("boxed").to_string(), "7");
    assert_eq!(shown(false).to_string(), "7");
    assert_eq!(shown(true).to_string(), "early");
}
