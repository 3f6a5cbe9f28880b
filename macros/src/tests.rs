//! Expansion checks, on token strings.

use crate::args::Kind;
use crate::expand::expand;

fn expand_str(args: &str, item: &str, kind: Kind) -> String {
    expand(args.parse().unwrap(), item.parse().unwrap(), kind).to_string()
}

#[test]
fn defaults_follow_tokio() {
    let main = expand_str("", "async fn main() {}", Kind::Main);
    assert!(main.contains("new_multi_thread"), "{main}");
    assert!(!main.contains("test"), "{main}");
    let test = expand_str("", "async fn t() {}", Kind::Test);
    assert!(test.contains("new_current_thread"), "{test}");
    assert!(
        test.contains("# [:: core :: prelude :: v1 :: test]"),
        "{test}"
    );
    assert!(!test.contains("compile_error"), "{test}");
}

#[test]
fn arguments_reach_the_builder() {
    let out = expand_str(
        r#"flavor = "multi_thread", worker_threads = 3, crate = "a::b""#,
        "async fn main() -> std::io::Result<()> { Ok(()) }",
        Kind::Main,
    );
    assert!(out.contains("builder . worker_threads (3usize)"), "{out}");
    assert!(
        out.contains("a :: b :: __private :: tokio :: runtime :: Builder"),
        "{out}"
    );
    assert!(out.contains("a :: b :: BuilderExt :: shardio"), "{out}");
    assert!(!out.contains(":: shardio ::"), "{out}");
    let paused = expand_str("start_paused = true", "async fn t() {}", Kind::Test);
    assert!(paused.contains("start_paused (true)"), "{paused}");
    let not_paused = expand_str("start_paused = false", "async fn t() {}", Kind::Test);
    assert!(!not_paused.contains("start_paused"), "{not_paused}");
}

#[test]
fn every_bad_argument_is_reported_and_a_function_still_expands() {
    let out = expand_str(
        r#"flavor = "x", worker_threads = 0, nope = 1"#,
        "async fn t() {}",
        Kind::Test,
    );
    assert_eq!(out.matches("compile_error").count(), 3, "{out}");
    assert!(out.contains("fn t ()"), "{out}");
}

#[test]
fn parameters_give_an_inert_function() {
    let out = expand_str("", "async fn t(x: u32) { let _ = x; }", Kind::Test);
    assert!(
        out.contains("test functions cannot accept arguments"),
        "{out}"
    );
    assert!(out.contains("fn t ()"), "{out}");
    assert!(!out.contains("v1 :: test"), "{out}");
    // Any other function may take them under `#[shardio::main]`, as in Tokio.
    let run = expand_str("", "async fn run(x: u32) -> u32 { x }", Kind::Main);
    assert!(!run.contains("compile_error"), "{run}");
}

#[test]
fn return_types_that_cannot_be_named_are_not_annotated() {
    let out = expand_str(
        "",
        "async fn f() -> impl std::fmt::Display { 1 }",
        Kind::Main,
    );
    assert!(!out.contains("dyn"), "{out}");
    assert!(!out.contains("compile_error"), "{out}");
}
