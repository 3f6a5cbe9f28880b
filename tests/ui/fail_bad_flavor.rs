#[shardio::main(flavor = "single")]
async fn main() {}
