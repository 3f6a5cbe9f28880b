#[shardio::main]
fn main() {}
