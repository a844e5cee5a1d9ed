//! The code each site macro becomes: a call of a function of `pyro::infer::language` (or a method
//! of the context) with the user's expressions passed straight as arguments, so that a
//! trait-bound error (`sample!("z", 1.0)`: "`{float}` is not a distribution") lands on the
//! expression the user wrote. The context is passed last: the arguments, which may hold site
//! macros of their own, are evaluated before it is borrowed.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, quote_spanned, ToTokens};
use syn::{Block, Expr, ExprClosure, ExprForLoop, Pat};

use crate::kind::Kind;
use crate::scope::Scopes;

/// The constraints that `constraint = name` may name bare.
const NULLARY_CONSTRAINTS: &[&str] = &[
    "real",
    "real_vector",
    "positive",
    "unit_interval",
    "simplex",
    "lower_cholesky",
    "boolean",
    "nonnegative",
    "nonnegative_integer",
];

/// The constraints that `constraint = name(args)` may call bare.
const CONSTRAINT_FUNCTIONS: &[&str] =
    &["interval", "greater_than", "less_than", "integer_interval"];

pub struct Emit<'a> {
    /// The path of the `pyro` crate (`::pyro`, or the attribute's `crate = path`).
    pub krate: &'a TokenStream,
    /// The hidden context.
    pub ctx: Ident,
}

impl Emit<'_> {
    /// `pyro::infer::language`, spanned on the site macro (the crate path too, so that the
    /// call is one span in the user's code).
    fn language(&self, span: Span) -> TokenStream {
        let krate = respan(self.krate, span);
        quote_spanned!(span=> #krate::infer::language)
    }

    /// The crate path, spanned on the site macro.
    fn krate(&self, span: Span) -> TokenStream {
        respan(self.krate, span)
    }

    /// A site name: `format!(...)` becomes `SiteName::from_args(format_args!(...))`, the same
    /// text formatted straight into the name's inline buffer instead of a fresh `String` each
    /// time the model runs; any other expression is passed as it is.
    fn name(&self, name: &Expr) -> TokenStream {
        if let Expr::Macro(m) = name {
            let path = &m.mac.path;
            let is_format = path.is_ident("format")
                || (path.segments.len() == 2
                    && matches!(path.segments[0].ident.to_string().as_str(), "std" | "alloc")
                    && path.segments[1].ident == "format");
            if is_format && m.attrs.is_empty() {
                let span = path
                    .segments
                    .last()
                    .map_or_else(Span::call_site, |s| s.ident.span());
                let krate = self.krate(span);
                let args = &m.mac.tokens;
                return quote_spanned!(span=> #krate::trace::SiteName::from_args(::core::format_args!(#args)));
            }
        }
        name.to_token_stream()
    }

    pub fn sample(
        &self,
        span: Span,
        name: &Expr,
        dist: &Expr,
        obs: Option<&Expr>,
        maybe_observed: bool,
        enumerate: bool,
    ) -> TokenStream {
        let name = &self.name(name);
        let (l, ctx) = (self.language(span), &self.ctx);
        match (obs, enumerate) {
            (Some(obs), _) if maybe_observed => {
                quote_spanned!(span=> #l::sample_maybe_observed(#name, #dist, #obs, #ctx))
            }
            (Some(obs), _) => {
                quote_spanned!(span=> #l::sample_observed(#name, #dist, #obs, #ctx))
            }
            (None, true) => quote_spanned!(span=> #l::sample_enumerated(#name, #dist, #ctx)),
            (None, false) => quote_spanned!(span=> #l::sample(#name, #dist, #ctx)),
        }
    }

    pub fn param(
        &self,
        span: Span,
        name: &Expr,
        init: &Expr,
        constraint: Option<TokenStream>,
    ) -> TokenStream {
        let name = &self.name(name);
        let (l, ctx, krate) = (self.language(span), &self.ctx, self.krate(span));
        let constraint =
            constraint.unwrap_or_else(|| quote_spanned!(span=> #krate::constraints::real()));
        quote_spanned!(span=> #l::param(#name, || #init, #constraint, #ctx))
    }

    /// A `constraint = ...` value: a built-in constraint named bare (`positive`,
    /// `interval(0.0, 1.0)`) unless a local of that name shadows it; any other expression as
    /// written.
    pub fn constraint(&self, c: &Expr, scopes: &Scopes) -> TokenStream {
        let span = c
            .to_token_stream()
            .into_iter()
            .next()
            .map_or_else(Span::call_site, |t| t.span());
        let krate = self.krate(span);
        match c {
            Expr::Path(p) if p.qself.is_none() => {
                if let Some(id) = p.path.get_ident() {
                    let name = id.to_string();
                    if NULLARY_CONSTRAINTS.contains(&name.as_str()) && !scopes.is_local(&name) {
                        return quote_spanned!(id.span()=> #krate::constraints::#id());
                    }
                }
                c.to_token_stream()
            }
            Expr::Call(call) => {
                if let Expr::Path(p) = &*call.func {
                    if let Some(id) = p.path.get_ident().filter(|_| p.qself.is_none()) {
                        let name = id.to_string();
                        let known = CONSTRAINT_FUNCTIONS.contains(&name.as_str())
                            || NULLARY_CONSTRAINTS.contains(&name.as_str());
                        if known && !scopes.is_local(&name) {
                            let args = &call.args;
                            let paren = call.paren_token;
                            let mut out = quote_spanned!(id.span()=> #krate::constraints::#id);
                            paren.surround(&mut out, |t| args.to_tokens(t));
                            return out;
                        }
                    }
                }
                c.to_token_stream()
            }
            _ => c.to_token_stream(),
        }
    }

    /// `factor!` and `deterministic!`.
    pub fn value(&self, span: Span, kind: Kind, name: &Expr, value: &Expr) -> TokenStream {
        let name = &self.name(name);
        let (l, ctx) = (self.language(span), &self.ctx);
        let f = Ident::new(kind.name(), span);
        quote_spanned!(span=> #l::#f(#name, #value, #ctx))
    }

    /// `module!(name, network)`.
    pub fn module(&self, span: Span, name: &Expr, module: &Expr) -> TokenStream {
        let (l, ctx) = (self.language(span), &self.ctx);
        quote_spanned!(span=> #l::module(#name, #module, #ctx))
    }

    /// `call!`. `described`: whether the sub-model is an entry of the caller's description
    /// (then the description reports a sub-model that is not a model, and the call here adds
    /// no second error: see `language::SubModelCall`).
    pub fn call(&self, span: Span, model: &Expr, args: &[Expr], described: bool) -> TokenStream {
        let (l, ctx) = (self.language(span), &self.ctx);
        let args = match args {
            [a] => a.to_token_stream(),
            many => quote_spanned!(span=> (#(#many,)*)),
        };
        let model = reference(model.to_token_stream());
        if described {
            let run = Ident::new("run", span);
            quote_spanned! {span=> {
                #[allow(unused_imports)]
                use #l::NotASubModel as _;
                #l::SubModelCall(#model).#run(#args, #ctx)
            }}
        } else {
            quote_spanned!(span=> #l::call(#model, #args, #ctx))
        }
    }

    /// The description's entry for the sub-model of a `call!`: `SiteDesc::call_of(&sub)`, with
    /// the same tokens and spans wherever it is written (the body, the description, a guide's
    /// checks).
    pub fn call_of(&self, record: &crate::walk::CallRecord) -> TokenStream {
        let span = record.span;
        let krate = self.krate(span);
        let model = match &record.model {
            Some(path) => reference(path.to_token_stream()),
            None => reference(record.tokens.clone()),
        };
        quote_spanned!(span=> #krate::infer::description::SiteDesc::call_of(#model))
    }

    pub fn plate(
        &self,
        span: Span,
        name: &Expr,
        size: &Expr,
        subsample: Option<&Expr>,
        dim: Option<&Expr>,
        body: &ExprClosure,
    ) -> TokenStream {
        let name = &self.name(name);
        let (l, ctx, krate) = (self.language(span), &self.ctx, self.krate(span));
        let option = |e: Option<&Expr>| match e {
            Some(e) => quote_spanned!(span=> ::core::option::Option::Some(#e)),
            None => quote_spanned!(span=> ::core::option::Option::None),
        };
        let (subsample, dim) = (option(subsample), option(dim));
        let pat = match body.inputs.first() {
            Some(p) => p.to_token_stream(),
            None => quote_spanned!(span=> _),
        };
        let (mv, out, inner) = (&body.capture, &body.output, &body.body);
        quote_spanned! {span=>
            #l::plate(
                #name,
                #size,
                #subsample,
                #dim,
                #mv |#ctx: &mut #krate::handlers::Context, #pat| #out #inner,
                #ctx,
            )
        }
    }

    pub fn sequential_plate(
        &self,
        span: Span,
        name: &Expr,
        size: &Expr,
        subsample: Option<&Expr>,
        pat: &Pat,
        block: &Block,
    ) -> TokenStream {
        let name = &self.name(name);
        let (l, ctx, krate) = (self.language(span), &self.ctx, self.krate(span));
        let subsample = match subsample {
            Some(e) => quote_spanned!(span=> ::core::option::Option::Some(#e)),
            None => quote_spanned!(span=> ::core::option::Option::None),
        };
        let n = Ident::new("plate_name", Span::mixed_site());
        let s = Ident::new("plate_size", Span::mixed_site());
        let idx = Ident::new("plate_indices", Span::mixed_site());
        quote_spanned! {span=> {
            let #n: #krate::trace::SiteName = #l::site_name(#name);
            let #s: usize = #size;
            let #idx = #ctx.sequential_indices(::core::clone::Clone::clone(&#n), #s, #subsample);
            for #pat in #idx.iter().copied() {
                #ctx.enter_sequential(&#n, #s, #idx.len());
                #block
            }
            #ctx.exit_sequential(&#n);
        }}
    }

    pub fn markov(&self, span: Span, history: Option<&Expr>, looped: &ExprForLoop) -> TokenStream {
        let (l, ctx, krate) = (self.language(span), &self.ctx, self.krate(span));
        let history = match history {
            Some(h) => h.to_token_stream(),
            None => quote_spanned!(span=> 1),
        };
        let (pat, iter, body) = (&looped.pat, &looped.expr, &looped.body);
        quote_spanned! {span=>
            #l::markov(#history, #iter, |#ctx: &mut #krate::handlers::Context, #pat| #body, #ctx)
        }
    }

    /// What a site macro with an error becomes: its expressions are still evaluated (their
    /// variables count as used: no follow-on warnings), then a value of the right type where it
    /// is known.
    pub fn placeholder(&self, span: Span, exprs: &[Expr], tensor_valued: bool) -> TokenStream {
        let krate = self.krate(span);
        let value = if tensor_valued {
            quote_spanned!(span=> #krate::tensor::Tensor::scalar(0.0))
        } else {
            quote_spanned!(span=> ::core::unreachable!())
        };
        // A closure's parameter types could not be inferred here: left out.
        let exprs = exprs.iter().filter(|e| !matches!(e, Expr::Closure(_)));
        quote_spanned!(span=> { let _ = (#(#exprs,)*); #value })
    }
}

/// `&tokens`, the `&` spanned on the first token: the expression's span is the user's tokens.
fn reference(tokens: TokenStream) -> TokenStream {
    let span = tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |t| t.span());
    let amp = quote_spanned!(span=> &);
    quote!(#amp #tokens)
}

/// `tokens` with every span set to `span`.
fn respan(tokens: &TokenStream, span: Span) -> TokenStream {
    tokens
        .clone()
        .into_iter()
        .map(|mut t| {
            t.set_span(span);
            t
        })
        .collect()
}
