#[shardio::test]
struct NotAFunction;

fn main() {}
