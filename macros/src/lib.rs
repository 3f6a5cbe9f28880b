//! Attribute macros for [shardio](https://docs.rs/shardio): `#[shardio::main]`
//! and `#[shardio::test]`.
//!
//! They take the same arguments as Tokio's (`flavor`, `worker_threads`,
//! `start_paused`, `crate`) and build a Tokio runtime with
//! `enable_all()` and `shardio::BuilderExt::shardio(Config::default())`.
//! Use them through the `shardio` crate, which re-exports them; examples
//! live in its documentation.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, ItemFn, Lit, Meta, Path, Token};

/// Runs `async fn main` on a Tokio runtime with shardio installed.
///
/// ```text
/// #[shardio::main]
/// async fn main() -> std::io::Result<()> { Ok(()) }
///
/// #[shardio::main(flavor = "current_thread")]
/// #[shardio::main(flavor = "multi_thread", worker_threads = 4)]
/// #[shardio::main(crate = "my_reexport::shardio")]
/// ```
///
/// The default flavor is `multi_thread`, as with `#[tokio::main]`.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Main).into()
}

/// Runs an `async fn` test on a Tokio runtime with shardio installed.
///
/// ```text
/// #[shardio::test]
/// async fn works() { shardio::nop().await.unwrap(); }
///
/// #[shardio::test(flavor = "multi_thread", worker_threads = 2)]
/// #[shardio::test(start_paused = true)] // needs shardio's `test-util` feature
/// ```
///
/// The default flavor is `current_thread`, as with `#[tokio::test]`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(args.into(), item.into(), Kind::Test).into()
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Main,
    Test,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Main => "shardio::main",
            Kind::Test => "shardio::test",
        }
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    CurrentThread,
    MultiThread,
}

struct Args {
    flavor: Option<(Flavor, Span)>,
    worker_threads: Option<(usize, Span)>,
    start_paused: Option<(bool, Span)>,
    krate: Option<Path>,
}

fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
    // On a parse error of the function, emit the item unchanged with the
    // error, so the user also sees rustc's own diagnostics for it.
    let func: ItemFn = match syn::parse2(item.clone()) {
        Ok(func) => func,
        Err(e) => {
            let err = e.to_compile_error();
            return quote! { #err #item };
        }
    };
    match parse_args(args, kind).and_then(|args| build(func.clone(), args, kind)) {
        Ok(tokens) => tokens,
        Err(e) => {
            // Emit the function as a plain `fn` with an inert body next to
            // the error, so rustc adds no follow-up errors (`async fn main`,
            // `.await` outside async) to the one that matters.
            let err = e.to_compile_error();
            let mut func = func;
            func.sig.asyncness = None;
            func.block =
                syn::parse_quote!({ ::core::unreachable!("this function did not compile") });
            quote! { #err #func }
        }
    }
}

fn parse_args(args: TokenStream2, kind: Kind) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(args)?;
    let mut out = Args {
        flavor: None,
        worker_threads: None,
        start_paused: None,
        krate: None,
    };
    for meta in metas {
        let Meta::NameValue(nv) = &meta else {
            return Err(syn::Error::new(
                meta.span(),
                format!(
                    "{}: expected `name = value`; the arguments are `flavor`, \
                     `worker_threads`, `start_paused` and `crate`",
                    kind.name()
                ),
            ));
        };
        let name = nv
            .path
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_default();
        let span = nv.value.span();
        let duplicate = |what: &str| {
            syn::Error::new(nv.path.span(), format!("`{what}` is given more than once"))
        };
        match name.as_str() {
            "flavor" => {
                let value = lit_str(&nv.value, "flavor")?;
                let flavor = match value.as_str() {
                    "current_thread" => Flavor::CurrentThread,
                    "multi_thread" => Flavor::MultiThread,
                    other => {
                        return Err(syn::Error::new(
                            span,
                            format!(
                                "unknown flavor `{other}`: use `\"current_thread\"` or `\"multi_thread\"`"
                            ),
                        ));
                    }
                };
                if out.flavor.replace((flavor, span)).is_some() {
                    return Err(duplicate("flavor"));
                }
            }
            "worker_threads" => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Int(int), ..
                }) = &nv.value
                else {
                    return Err(syn::Error::new(
                        span,
                        "`worker_threads` takes an integer, e.g. `worker_threads = 4`",
                    ));
                };
                let n: usize = int.base10_parse()?;
                if n == 0 {
                    return Err(syn::Error::new(span, "`worker_threads` must be at least 1"));
                }
                if out.worker_threads.replace((n, span)).is_some() {
                    return Err(duplicate("worker_threads"));
                }
            }
            "start_paused" => {
                let Expr::Lit(ExprLit {
                    lit: Lit::Bool(b), ..
                }) = &nv.value
                else {
                    return Err(syn::Error::new(
                        span,
                        "`start_paused` takes `true` or `false`",
                    ));
                };
                if out.start_paused.replace((b.value, span)).is_some() {
                    return Err(duplicate("start_paused"));
                }
            }
            "crate" => {
                let path: Path = syn::parse_str(&lit_str(&nv.value, "crate")?).map_err(|_| {
                    syn::Error::new(span, "`crate` takes a path, e.g. `crate = \"shardio\"`")
                })?;
                if out.krate.replace(path).is_some() {
                    return Err(duplicate("crate"));
                }
            }
            _ => {
                return Err(syn::Error::new(
                    nv.path.span(),
                    format!(
                        "unknown argument `{name}` for {}: the arguments are `flavor`, \
                         `worker_threads`, `start_paused` and `crate`",
                        kind.name()
                    ),
                ));
            }
        }
    }
    Ok(out)
}

fn lit_str(expr: &Expr, what: &str) -> syn::Result<String> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(s), ..
        }) => Ok(s.value()),
        _ => Err(syn::Error::new(
            expr.span(),
            format!("`{what}` takes a string literal"),
        )),
    }
}

fn build(mut func: ItemFn, args: Args, kind: Kind) -> syn::Result<TokenStream2> {
    let sig = &func.sig;
    if sig.asyncness.is_none() {
        return Err(syn::Error::new(
            sig.fn_token.span(),
            format!("{}: the function must be `async fn`", kind.name()),
        ));
    }
    if !sig.inputs.is_empty() {
        return Err(syn::Error::new(
            sig.inputs.span(),
            format!("{}: the function cannot take arguments", kind.name()),
        ));
    }
    if kind == Kind::Main && sig.ident != "main" {
        return Err(syn::Error::new(
            sig.ident.span(),
            "shardio::main: use it on `async fn main`",
        ));
    }
    let default = match kind {
        Kind::Main => Flavor::MultiThread,
        Kind::Test => Flavor::CurrentThread,
    };
    let flavor = args.flavor.map_or(default, |(f, _)| f);
    if let (Flavor::CurrentThread, Some((_, span))) = (flavor, args.worker_threads) {
        return Err(syn::Error::new(
            span,
            "`worker_threads` cannot be set with the `current_thread` flavor",
        ));
    }
    if let (Flavor::MultiThread, Some((true, span))) = (flavor, args.start_paused) {
        return Err(syn::Error::new(
            span,
            "`start_paused` can only be set with the `current_thread` flavor",
        ));
    }
    let krate = args
        .krate
        .map_or_else(|| quote! { ::shardio }, |p| quote! { #p });
    let new_builder = match flavor {
        Flavor::CurrentThread => quote! { new_current_thread },
        Flavor::MultiThread => quote! { new_multi_thread },
    };
    let worker_threads = args
        .worker_threads
        .map(|(n, _)| quote! { builder.worker_threads(#n); });
    let start_paused = match args.start_paused {
        Some((true, span)) => Some(quote_spanned! {span=> builder.start_paused(true); }),
        _ => None,
    };

    // The body runs in an async block; the function becomes synchronous.
    let body = &func.block;
    let output = &func.sig.output;
    let body_ty = match output {
        syn::ReturnType::Default => quote! { () },
        syn::ReturnType::Type(_, ty) => quote! { #ty },
    };
    func.sig.asyncness = None;
    let test_attr = (kind == Kind::Test).then(|| quote! { #[::core::prelude::v1::test] });
    let attrs = &func.attrs;
    let vis = &func.vis;
    let sig = &func.sig;
    Ok(quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            let body = async move #body;
            let mut builder = #krate::__private::tokio::runtime::Builder::#new_builder();
            #worker_threads
            #start_paused
            builder.enable_all();
            #krate::BuilderExt::shardio(&mut builder, #krate::Config::default());
            #[allow(clippy::expect_used)]
            let runtime = builder.build().expect("failed building the Tokio runtime");
            let result: #body_ty = runtime.block_on(body);
            result
        }
    })
}
