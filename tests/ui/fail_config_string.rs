fn config() -> shardio::Config {
    shardio::Config::default()
}

#[shardio::main(config = "config")]
async fn main() {}
