// Every bad argument is reported, not only the first.
#[shardio::test(flavor = "single_thread", worker_threads = 0, paused = true)]
async fn many() {}

fn main() {}
