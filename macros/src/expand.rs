//! The expansion: the `async fn` turned into a plain `fn` that builds the
//! runtime and blocks on the body, or an inert function beside the errors.

use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::{ToTokens, quote, quote_spanned};
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, ItemFn, Meta, ReturnType, Token};

use crate::args::{Args, Errors, Flavor, Kind, Resolved, check_flavor_options, parse_args};

pub(crate) fn expand(args: TokenStream2, item: TokenStream2, kind: Kind) -> TokenStream2 {
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

/// Reports what the function's signature makes impossible. Returns whether
/// its parameters are usable (when they are not, the expansion is inert).
pub(crate) fn check_signature(func: &ItemFn, kind: Kind, errors: &mut Errors) -> bool {
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
pub(crate) fn is_test_attribute(attr: &Attribute) -> bool {
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
pub(crate) fn build(func: ItemFn, config: &Resolved, add_test_attr: bool) -> TokenStream2 {
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
        config,
    } = config;
    // Locals the user's code cannot name.
    let body = quote_spanned!(Span::mixed_site()=> body);
    let builder = quote_spanned!(Span::mixed_site()=> builder);
    let runtime = quote_spanned!(Span::mixed_site()=> runtime);
    let error = quote_spanned!(Span::mixed_site()=> error);

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

    // `config = path`: the function's `Config` or `io::Result<Config>`; an
    // error ends the program before the runtime exists, as a runtime that
    // fails to build does.
    let config_value = match config {
        None => quote! { <#krate::Config as ::core::default::Default>::default() },
        Some(path) => {
            let name = path.to_token_stream().to_string().replace(' ', "");
            let call =
                quote_spanned!(path.span()=> #krate::__private::IntoConfig::into_config(#path()));
            quote! {
                match #call {
                    ::core::result::Result::Ok(config) => config,
                    ::core::result::Result::Err(#error) => ::core::panic!(
                        "shardio: the configuration from `{}` failed: {}", #name, #error
                    ),
                }
            }
        }
    };

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
            #krate::BuilderExt::shardio(&mut #builder, #config_value);
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
pub(crate) fn inert(func: ItemFn) -> TokenStream2 {
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
pub(crate) fn outer(attrs: Vec<Attribute>) -> Vec<Attribute> {
    attrs
        .into_iter()
        .map(|mut attr| {
            attr.style = syn::AttrStyle::Outer;
            attr
        })
        .collect()
}

pub(crate) fn mentions_impl(ty: &syn::Type) -> bool {
    pub(crate) fn walk(tokens: TokenStream2) -> bool {
        tokens.into_iter().any(|tt| match tt {
            TokenTree::Ident(ident) => ident == "impl",
            TokenTree::Group(group) => walk(group.stream()),
            _ => false,
        })
    }
    walk(ty.to_token_stream())
}
