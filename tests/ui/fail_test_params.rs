#[shardio::test]
async fn takes_args(x: u32) {
    assert_eq!(x, 1);
}

fn main() {}
