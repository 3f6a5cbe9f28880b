//! `#[shardio::main]` on `main`: the default multi_thread runtime, `?` and an
//! early `return` in the body, an inner attribute, a public `main`.
use std::io;

#[shardio::main]
pub async fn main() -> io::Result<()> {
    #![allow(clippy::needless_return)]
    let handle = tokio::runtime::Handle::current();
    assert_eq!(
        handle.runtime_flavor(),
        tokio::runtime::RuntimeFlavor::MultiThread
    );
    shardio::nop().await?;
    if handle.metrics().num_workers() > 0 {
        return Ok(());
    }
    Err(io::Error::other("no workers"))
}
