//! Attribute macros for [shardio](https://docs.rs/shardio): `#[shardio::main]`
//! and `#[shardio::test]`.
//!
//! They are the counterparts of `#[tokio::main]` and `#[tokio::test]`: they
//! turn an `async fn` into a plain `fn` that builds a Tokio runtime with
//! `enable_all()` and shardio installed (`shardio::BuilderExt::shardio` with
//! `shardio::Config::default()`), then blocks on the function's body.
//!
//! Use them through the `shardio` crate, which re-exports them; the generated
//! code names Tokio through `shardio`, so the caller needs no direct
//! dependency on `tokio`. Compiled examples live in `shardio`'s documentation.
//!
//! | argument         | value                                    | default                                      |
//! |------------------|------------------------------------------|----------------------------------------------|
//! | `flavor`         | `"multi_thread"` or `"current_thread"`   | `main`: `"multi_thread"`, `test`: `"current_thread"` |
//! | `worker_threads` | integer ≥ 1, `multi_thread` only         | Tokio's (one per core)                       |
//! | `start_paused`   | `true` or `false`, `current_thread` only | `false`                                      |
//! | `crate`          | path to `shardio`, as a string           | `"::shardio"`                                |
//! | `config`         | path to a `fn() -> Config` (or `io::Result<Config>`) | `Config::default()`              |
//!
//! Either way, `BuilderExt::shardio` then applies the `SHARDIO_*`
//! environment variables to the settings the configuration leaves at their
//! defaults (`shardio::Config::with_env`).

mod args;
mod expand;
#[cfg(test)]
mod tests;

use proc_macro::TokenStream;

use args::Kind;
use expand::expand;

/// Runs an `async fn main` on a Tokio runtime with shardio installed.
///
/// ```ignore
/// #[shardio::main]
/// async fn main() -> std::io::Result<()> {
///     shardio::nop().await?;
///     Ok(())
/// }
/// ```
///
/// The default flavor is `multi_thread`, as with `#[tokio::main]`. Arguments:
///
/// ```ignore
/// #[shardio::main(flavor = "current_thread")]
/// #[shardio::main(flavor = "multi_thread", worker_threads = 4)]
/// #[shardio::main(crate = "my_reexports::shardio")]
/// ```
///
/// - `flavor`: `"multi_thread"` (default) or `"current_thread"`.
/// - `worker_threads = N`: the number of Tokio worker threads (`N >= 1`);
///   only with the `multi_thread` flavor.
/// - `start_paused = true`: start with Tokio's clock paused; only with the
///   `current_thread` flavor, and it needs `shardio`'s `test-util` feature
///   (which enables Tokio's). `start_paused = false` adds nothing.
/// - `config = path::to_fn`: the `shardio::Config` (see below).
/// - `crate = "path"`: where the `shardio` crate is, when it is renamed or
///   re-exported (default `::shardio`).
///
/// The function keeps its attributes, visibility and return type; `?` and
/// `return` work in its body as in any `async fn`. It expands to:
///
/// ```ignore
/// fn main() -> std::io::Result<()> {
///     let body = async move {
///         #[allow(unreachable_code, unused_variables, clippy::diverging_sub_expression)]
///         if false {
///             let value: std::io::Result<()> = ::core::unreachable!();
///             return value;
///         }
///         {
///             shardio::nop().await?;
///             Ok(())
///         }
///     };
///     let body = ::core::pin::pin!(body);
///     let body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = std::io::Result<()>>> =
///         body;
///     let mut builder = ::shardio::__private::tokio::runtime::Builder::new_multi_thread();
///     builder.enable_all();
///     ::shardio::BuilderExt::shardio(
///         &mut builder,
///         <::shardio::Config as ::core::default::Default>::default(),
///     );
///     #[allow(clippy::expect_used, clippy::unwrap_in_result)]
///     let runtime = builder.build().expect("Failed building the Runtime");
///     runtime.block_on(body)
/// }
/// ```
///
/// `worker_threads = N` adds `builder.worker_threads(N);` and
/// `start_paused = true` adds `builder.start_paused(true);` before
/// `enable_all()`. The `return` that never runs gives the body the
/// function's return type `T`, as in an `async fn`: `?` converts to it, the
/// body's values (also early `return`s) are coerced to it, and a mismatch is
/// reported in the body. It and the `dyn Future` are left out when `T` is `!`
/// or mentions `impl Trait`, which cannot be written there.
///
/// Like `#[tokio::main]`, it also works on an `async fn` not named `main`
/// (each call then builds a runtime), and such a function may take
/// arguments; `main` itself may not.
///
/// `config = path::to_fn` configures shardio: `to_fn()` returns a
/// `shardio::Config` or a `std::io::Result<shardio::Config>` (an error
/// panics with its message before the runtime is built):
///
/// ```ignore
/// fn config() -> std::io::Result<shardio::Config> {
///     shardio::Config::default().storage_submit_batch(4)
/// }
///
/// #[shardio::main(config = config)]
/// async fn main() { /* ... */ }
/// ```
///
/// With or without it, the `SHARDIO_*` environment variables fill in the
/// settings the configuration leaves at their defaults
/// (`shardio::Config::with_env`; `Config::use_env(false)` turns that off).
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Main).into()
}

/// Runs an `async fn` test on a Tokio runtime with shardio installed.
///
/// ```ignore
/// #[shardio::test]
/// async fn nop_completes() -> std::io::Result<()> {
///     shardio::nop().await
/// }
/// ```
///
/// The default flavor is `current_thread`, as with `#[tokio::test]`; each
/// test gets its own runtime. Arguments:
///
/// ```ignore
/// #[shardio::test(flavor = "multi_thread", worker_threads = 2)]
/// #[shardio::test(start_paused = true)] // needs shardio's `test-util` feature
/// #[shardio::test(crate = "my_reexports::shardio")]
/// ```
///
/// - `flavor`: `"current_thread"` (default) or `"multi_thread"`.
/// - `worker_threads = N`: the number of Tokio worker threads (`N >= 1`);
///   only with the `multi_thread` flavor.
/// - `start_paused = true`: start with Tokio's clock paused, so that
///   `tokio::time::sleep` returns as soon as every task waits; only with the
///   `current_thread` flavor, and it needs `shardio`'s `test-util` feature
///   (which enables Tokio's), e.g. `shardio = { features = ["test-util"] }`
///   in `[dev-dependencies]`. `start_paused = false` adds nothing.
/// - `config = path::to_fn`: the `shardio::Config`, as for [`macro@main`].
/// - `crate = "path"`: where the `shardio` crate is, when it is renamed or
///   re-exported (default `::shardio`).
///
/// The macro adds `#[test]` (do not add your own) and keeps the function's
/// other attributes, such as `#[should_panic]` or `#[ignore]`, and its return
/// type, e.g. `std::io::Result<()>`. The expansion is the one shown for
/// [`macro@main`], with `#[::core::prelude::v1::test]` added and
/// `Builder::new_current_thread()` by default.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Test).into()
}
