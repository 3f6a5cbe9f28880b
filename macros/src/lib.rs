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

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprLit, ItemFn, Lit, Meta, MetaNameValue, Path, ReturnType, Token};

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
/// To configure shardio (`shardio::Config`), build the runtime by hand with
/// `shardio::BuilderExt::shardio` instead.
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

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as the user writes it, for messages.
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "shardio::main",
            Kind::Test => "shardio::test",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
        }
    }
}

/// The arguments as given; each option keeps its `name = value` tokens for
/// error spans. Options found invalid are left out and reported.
#[derive(Default)]
struct Args {
    flavor: Option<Flavor>,
    worker_threads: Option<(usize, MetaNameValue)>,
    start_paused: Option<(bool, MetaNameValue)>,
    krate: Option<Path>,
}

/// Every error found, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }
}

const ARGUMENTS: &str = "`flavor`, `worker_threads`, `start_paused` and `crate`";

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        // Not a function: give the item back as it was, so that rustc
        // reports on it too.
        Err(e) => {
            let error = e.to_compile_error();
            return quote! { #item #error };
        }
    };
    let mut errors = Errors::default();
    let args = match Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args) {
        Ok(metas) => parse_args(metas, kind, &mut errors),
        Err(e) => {
            errors.push(e);
            Args::default()
        }
    };
    let resolved = check_flavor_options(args, kind, &mut errors);
    let params_ok = check_signature(&func, kind, &mut errors);

    // On errors, still expand to a function as close to the intended one as
    // possible (with the invalid options left out), so that rustc adds no
    // follow-up errors to ours and IDEs keep working inside the body.
    let expanded = if params_ok {
        let add_test_attr = kind == Kind::Test && !func.attrs.iter().any(is_test_attribute);
        build(func, &resolved, add_test_attr)
    } else {
        inert(func)
    };
    match errors.0 {
        None => expanded,
        Some(error) => {
            let error = error.to_compile_error();
            quote! { #expanded #error }
        }
    }
}

/// What was given, validated against the macro's defaults.
struct Resolved {
    flavor: Flavor,
    worker_threads: Option<usize>,
    start_paused: Option<Span>,
    krate: TokenStream2,
}

fn parse_args(metas: Punctuated<Meta, Token![,]>, kind: Kind, errors: &mut Errors) -> Args {
    let mut args = Args::default();
    for meta in metas {
        let nv = match meta {
            Meta::NameValue(nv) => nv,
            Meta::Path(path) => {
                let name = path.to_token_stream().to_string();
                let message = match name.as_str() {
                    "multi_thread" | "current_thread" => {
                        format!(
                            "set the runtime flavor with `#[{}(flavor = \"{name}\")]`",
                            kind.name()
                        )
                    }
                    "flavor" | "worker_threads" | "start_paused" | "crate" => {
                        format!("the `{name}` argument needs a value: `{name} = ...`")
                    }
                    _ => unknown_argument(&name),
                };
                errors.spanned(path, message);
                continue;
            }
            Meta::List(list) => {
                errors.spanned(
                    &list,
                    format!("expected `name = value`; the arguments are {ARGUMENTS}"),
                );
                continue;
            }
        };
        let name = nv.path.to_token_stream().to_string();
        let already = match name.as_str() {
            "flavor" => args.flavor.is_some(),
            "worker_threads" => args.worker_threads.is_some(),
            "start_paused" => args.start_paused.is_some(),
            "crate" => args.krate.is_some(),
            _ => false,
        };
        if already {
            errors.spanned(&nv.path, format!("`{name}` is set more than once"));
            continue;
        }
        match name.as_str() {
            "flavor" => match flavor(&nv.value) {
                Ok(flavor) => args.flavor = Some(flavor),
                Err(e) => errors.push(e),
            },
            "worker_threads" => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Int(int), ..
                }) => match int.base10_parse::<usize>() {
                    Ok(0) => errors.spanned(int, "`worker_threads` may not be 0"),
                    Ok(n) => args.worker_threads = Some((n, nv)),
                    Err(e) => errors.spanned(int, format!("`worker_threads`: {e}")),
                },
                value => errors.spanned(
                    value,
                    "`worker_threads` takes an integer literal, e.g. `worker_threads = 4`",
                ),
            },
            "start_paused" => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Bool(b), ..
                }) => args.start_paused = Some((b.value, nv)),
                value => errors.spanned(value, "`start_paused` takes `true` or `false`"),
            },
            "crate" => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => match s.parse::<Path>() {
                    Ok(path) => args.krate = Some(path),
                    Err(_) => errors.spanned(s, format!("`crate`: `{}` is not a path", s.value())),
                },
                value => errors.spanned(
                    value,
                    "`crate` takes the path as a string, e.g. `crate = \"shardio\"`",
                ),
            },
            "unhandled_panic" | "name" => errors.spanned(
                &nv.path,
                format!(
                    "`{name}` is a `#[tokio::{}]` argument that `#[{}]` does not support; \
                     build the runtime yourself with `shardio::BuilderExt`",
                    if kind == Kind::Main { "main" } else { "test" },
                    kind.name()
                ),
            ),
            _ => errors.spanned(&nv.path, unknown_argument(&name)),
        }
    }
    args
}

fn unknown_argument(name: &str) -> String {
    let close = ["flavor", "worker_threads", "start_paused", "crate"]
        .into_iter()
        .find(|known| name.len() >= 4 && (known.contains(name) || name.contains(known)));
    match close {
        Some(known) => format!(
            "unknown argument `{name}`; did you mean `{known}`? The arguments are {ARGUMENTS}"
        ),
        None => format!("unknown argument `{name}`; the arguments are {ARGUMENTS}"),
    }
}

fn flavor(value: &Expr) -> syn::Result<Flavor> {
    let Expr::Lit(ExprLit {
        lit: Lit::Str(s), ..
    }) = value
    else {
        return Err(syn::Error::new_spanned(
            value,
            "`flavor` takes a string: \"multi_thread\" or \"current_thread\"",
        ));
    };
    let message = match s.value().as_str() {
        "multi_thread" => return Ok(Flavor::MultiThread),
        "current_thread" => return Ok(Flavor::CurrentThread),
        "single_thread" | "basic_scheduler" => {
            "the single-threaded runtime flavor is called `current_thread`".to_owned()
        }
        "threaded_scheduler" => "the threaded runtime flavor is called `multi_thread`".to_owned(),
        "local" => "shardio does not support Tokio's `local` flavor; \
                    the flavors are `multi_thread` and `current_thread`"
            .to_owned(),
        other => format!(
            "unknown runtime flavor `{other}`; the flavors are `multi_thread` and `current_thread`"
        ),
    };
    Err(syn::Error::new_spanned(s, message))
}

/// Checks that the options fit the flavor; an option that does not is left
/// out of the expansion.
fn check_flavor_options(args: Args, kind: Kind, errors: &mut Errors) -> Resolved {
    let flavor = args.flavor.unwrap_or(kind.default_flavor());
    let why = match args.flavor {
        Some(_) => format!("the `{}` flavor is set", flavor.name()),
        None => format!(
            "the default flavor of `#[{}]` is `{}`",
            kind.name(),
            flavor.name()
        ),
    };
    let mut worker_threads = None;
    if let Some((n, nv)) = args.worker_threads {
        if flavor == Flavor::MultiThread {
            worker_threads = Some(n);
        } else {
            errors.spanned(
                nv,
                format!(
                    "`worker_threads` requires the `multi_thread` flavor ({why}); \
                     use `#[{}(flavor = \"multi_thread\", worker_threads = {n})]`",
                    kind.name()
                ),
            );
        }
    }
    let mut start_paused = None;
    if let Some((paused, nv)) = args.start_paused {
        if flavor == Flavor::CurrentThread {
            start_paused = paused.then(|| nv.value.span());
        } else {
            errors.spanned(
                nv,
                format!(
                    "`start_paused` requires the `current_thread` flavor ({why}); \
                     use `#[{}(flavor = \"current_thread\", start_paused = {paused})]`",
                    kind.name()
                ),
            );
        }
    }
    let krate = args
        .krate
        .map_or_else(|| quote! { ::shardio }, ToTokens::into_token_stream);
    Resolved {
        flavor,
        worker_threads,
        start_paused,
        krate,
    }
}

/// Reports what the function's signature makes impossible. Returns whether
/// its parameters are usable (when they are not, the expansion is inert).
fn check_signature(func: &ItemFn, kind: Kind, errors: &mut Errors) -> bool {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        errors.spanned(
            sig.fn_token,
            format!(
                "the `async` keyword is missing from the function declaration: \
                 `#[{}]` runs an `async fn`",
                kind.name()
            ),
        );
    }
    if kind == Kind::Test {
        if let Some(attr) = func.attrs.iter().find(|a| is_test_attribute(a)) {
            errors.spanned(
                attr,
                "`#[shardio::test]` adds `#[test]` itself; remove this one",
            );
        }
    }
    let params_ok = sig.inputs.is_empty()
        || match kind {
            Kind::Main => sig.ident != "main",
            Kind::Test => false,
        };
    if !params_ok {
        let what = match kind {
            Kind::Main => "the main function cannot accept arguments",
            Kind::Test => "test functions cannot accept arguments",
        };
        errors.spanned(&sig.inputs, what);
    }
    params_ok
}

/// `#[test]`, `#[core::prelude::*::test]`, `#[std::prelude::*::test]`, with or
/// without a leading `::`.
fn is_test_attribute(attr: &Attribute) -> bool {
    let Meta::Path(path) = &attr.meta else {
        return false;
    };
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    match segments.as_slice() {
        [test] => path.leading_colon.is_none() && test == "test",
        [root, prelude, _, test] => {
            (root == "core" || root == "std") && prelude == "prelude" && test == "test"
        }
        _ => false,
    }
}

/// The function, synchronous, building the runtime and blocking on its body.
fn build(func: ItemFn, config: &Resolved, add_test_attr: bool) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = func;
    sig.asyncness = None;
    let attrs = outer(attrs);
    let test_attr = add_test_attr.then(|| quote! { #[::core::prelude::v1::test] });

    let Resolved {
        flavor,
        worker_threads,
        start_paused,
        krate,
    } = config;
    // Locals the user's code cannot name.
    let body = quote_spanned!(Span::mixed_site()=> body);
    let builder = quote_spanned!(Span::mixed_site()=> builder);
    let runtime = quote_spanned!(Span::mixed_site()=> runtime);

    let new_builder = match flavor {
        Flavor::CurrentThread => quote! { new_current_thread },
        Flavor::MultiThread => quote! { new_multi_thread },
    };
    let worker_threads = worker_threads.map(|n| quote! { #builder.worker_threads(#n); });
    // Spanned at the user's `true`: without Tokio's `test-util`, rustc's
    // "no method named `start_paused`" points there.
    let start_paused = start_paused.map(|span| {
        let call = quote_spanned!(span=> start_paused(true));
        quote! { #builder.#call; }
    });

    // The body's future is given the function's return type `T`, as in an
    // `async fn`, by a `return` of type `T` ahead of the body that never runs:
    // `?` then knows what to convert to, the body's values are coerced to `T`,
    // and a mismatch is reported in the body. The future is then used as a
    // `dyn Future` (as Tokio does for tests), so `block_on` is compiled once
    // for all the functions. Neither is possible when `T` is `!` or mentions
    // `impl Trait`, which cannot be written there.
    let nameable = match &sig.output {
        ReturnType::Default => Some(quote! { () }),
        ReturnType::Type(_, ty) if matches!(**ty, syn::Type::Never(_)) || mentions_impl(ty) => None,
        ReturnType::Type(_, ty) => Some(ty.to_token_stream()),
    };
    // rustc says where the body's type came from: at the return type.
    let ty_span = match &sig.output {
        ReturnType::Default => Span::call_site(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let value = quote_spanned!(Span::mixed_site().located_at(ty_span)=> value);
    let ret = quote_spanned!(ty_span=> return);
    let body_future = match &nameable {
        Some(ty) => quote! {
            async move {
                #[allow(unreachable_code, unused_variables, clippy::diverging_sub_expression)]
                if false {
                    let #value: #ty = ::core::unreachable!();
                    #ret #value;
                }
                #block
            }
        },
        None => quote! { async move #block },
    };
    let pin_body = nameable.map(|ty| {
        quote! {
            let #body = ::core::pin::pin!(#body);
            let #body: ::core::pin::Pin<&mut dyn ::core::future::Future<Output = #ty>> = #body;
        }
    });

    quote! {
        #(#attrs)*
        #test_attr
        #vis #sig {
            let #body = #body_future;
            #pin_body
            let mut #builder = #krate::__private::tokio::runtime::Builder::#new_builder();
            #worker_threads
            #start_paused
            #builder.enable_all();
            #krate::BuilderExt::shardio(
                &mut #builder,
                <#krate::Config as ::core::default::Default>::default(),
            );
            #[allow(clippy::expect_used, clippy::unwrap_in_result)]
            let #runtime = #builder.build().expect("Failed building the Runtime");
            #runtime.block_on(#body)
        }
    }
}

/// The function with no parameters and a body that never runs: emitted next
/// to the error when the parameters are the problem, so that rustc does not
/// add its own errors about them (`main` with arguments, a test with
/// arguments).
fn inert(func: ItemFn) -> TokenStream2 {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        ..
    } = func;
    sig.asyncness = None;
    sig.inputs.clear();
    let attrs = outer(attrs);
    quote! {
        #(#attrs)*
        #[allow(dead_code)]
        #vis #sig {
            ::core::unreachable!()
        }
    }
}

/// Inner attributes of the body (`#![allow(..)]`), which syn lists with the
/// function's, become outer ones: the body is now inside an `async` block.
fn outer(attrs: Vec<Attribute>) -> Vec<Attribute> {
    attrs
        .into_iter()
        .map(|mut attr| {
            attr.style = syn::AttrStyle::Outer;
            attr
        })
        .collect()
}

fn mentions_impl(ty: &syn::Type) -> bool {
    fn walk(tokens: TokenStream2) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}

#[cfg(test)]
mod tests {
    use super::{Kind, expand};

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
}
