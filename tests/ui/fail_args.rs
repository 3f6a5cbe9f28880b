#[shardio::test]
async fn takes_args(x: u32) {
    let _ = x;
}

fn main() {}
