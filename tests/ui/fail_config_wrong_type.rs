fn config() -> u32 {
    7
}

#[shardio::main(config = config)]
async fn main() {}
