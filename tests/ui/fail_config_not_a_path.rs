#[shardio::test(config = shardio::Config::default())]
async fn configured() {}

fn main() {}
