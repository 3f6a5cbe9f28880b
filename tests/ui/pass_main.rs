#[shardio::main(flavor = "current_thread")]
async fn main() -> std::io::Result<()> {
    shardio::nop().await
}
