// `#[shardio::test]` is current_thread by default.
#[shardio::test(worker_threads = 4)]
async fn four_workers() {}

fn main() {}
