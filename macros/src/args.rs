//! The macros' arguments: parsed, checked against each other and the
//! flavor, every error collected with the tokens it points at.

use proc_macro2::{Span, TokenStream as TokenStream2};
use quote::{ToTokens, quote};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, MetaNameValue, Path, Token};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    /// The attribute as the user writes it, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Main => "shardio::main",
            Kind::Test => "shardio::test",
        }
    }

    pub(crate) fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Flavor::CurrentThread => "current_thread",
            Flavor::MultiThread => "multi_thread",
        }
    }
}

/// The arguments as given; each option keeps its `name = value` tokens for
/// error spans. Options found invalid are left out and reported.
#[derive(Default)]
pub(crate) struct Args {
    flavor: Option<Flavor>,
    worker_threads: Option<(usize, MetaNameValue)>,
    start_paused: Option<(bool, MetaNameValue)>,
    krate: Option<Path>,
    config: Option<Path>,
}

/// Every error found, reported together.
#[derive(Default)]
pub(crate) struct Errors(pub(crate) Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(first) => first.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn spanned(&mut self, tokens: impl ToTokens, message: impl std::fmt::Display) {
        self.push(syn::Error::new_spanned(tokens, message));
    }
}

pub(crate) const ARGUMENTS: &str =
    "`flavor`, `worker_threads`, `start_paused`, `crate` and `config`";
pub(crate) const NAMES: [&str; 5] = [
    "flavor",
    "worker_threads",
    "start_paused",
    "crate",
    "config",
];

/// What was given, validated against the macro's defaults.
pub(crate) struct Resolved {
    pub(crate) flavor: Flavor,
    pub(crate) worker_threads: Option<usize>,
    pub(crate) start_paused: Option<Span>,
    pub(crate) krate: TokenStream2,
    pub(crate) config: Option<Path>,
}

pub(crate) fn parse_args(
    metas: Punctuated<Meta, Token![,]>,
    kind: Kind,
    errors: &mut Errors,
) -> Args {
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
                    "flavor" | "worker_threads" | "start_paused" | "crate" | "config" => {
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
            "config" => args.config.is_some(),
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
            "config" => match &nv.value {
                Expr::Path(p) if p.qself.is_none() => args.config = Some(p.path.clone()),
                Expr::Lit(ExprLit {
                    lit: Lit::Str(s), ..
                }) => errors.spanned(
                    s,
                    format!(
                        "`config` takes a path to a function, not a string: \
                         `config = {}`",
                        s.value()
                    ),
                ),
                value => errors.spanned(
                    value,
                    "`config` takes a path to a function returning `shardio::Config` or \
                     `std::io::Result<shardio::Config>`, e.g. `config = crate::runtime_config`",
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

pub(crate) fn unknown_argument(name: &str) -> String {
    let close = NAMES
        .into_iter()
        .find(|known| name.len() >= 4 && (known.contains(name) || name.contains(known)));
    match close {
        Some(known) => format!(
            "unknown argument `{name}`; did you mean `{known}`? The arguments are {ARGUMENTS}"
        ),
        None => format!("unknown argument `{name}`; the arguments are {ARGUMENTS}"),
    }
}

pub(crate) fn flavor(value: &Expr) -> syn::Result<Flavor> {
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
pub(crate) fn check_flavor_options(args: Args, kind: Kind, errors: &mut Errors) -> Resolved {
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
        config: args.config,
    }
}
