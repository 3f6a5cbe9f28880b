// `#[shardio::main]` is multi_thread by default, and Tokio can only pause the
// clock of a current_thread runtime.
#[shardio::main(start_paused = true)]
async fn main() {}
