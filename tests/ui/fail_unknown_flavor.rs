#[shardio::main(flavor = "multi_threaded")]
async fn main() {}
