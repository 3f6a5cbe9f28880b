// A body that does not produce the declared type is reported at the body.
#[shardio::main]
async fn main() -> std::io::Result<()> {
    shardio::nop().await?;
    42
}
