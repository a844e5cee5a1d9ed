//! Parsing: the `#[guide(...)]` attribute, the function signature (arguments and their types
//! with lifetimes normalised), and the argument lists of the site macros.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use quote::ToTokens;
use syn::visit_mut::VisitMut;
use syn::{FnArg, ItemFn, Lifetime, Pat, Path, ReturnType, Type};

/// The lifetime that replaces elided and named lifetimes of argument types in `Args<'a>`.
pub const ARGS_LIFETIME: &str = "'__pyro_a";

/// The arguments of `#[guide(model = path)]`.
pub struct GuideAttr {
    pub model: Path,
}

pub fn guide_attr(attr: TokenStream) -> syn::Result<GuideAttr> {
    let missing = || {
        syn::Error::new(
            Span::call_site(),
            "#[guide] needs the model it guides: write `#[guide(model = my_model)]`",
        )
    };
    if attr.is_empty() {
        return Err(missing());
    }
    let parser = |input: syn::parse::ParseStream| -> syn::Result<GuideAttr> {
        let mut model = None;
        let mut errors: Option<syn::Error> = None;
        while !input.is_empty() {
            let key: syn::Ident = input.parse()?;
            input.parse::<syn::Token![=]>()?;
            if key == "model" {
                let path: Path = input.parse()?;
                if model.is_some() {
                    push(
                        &mut errors,
                        syn::Error::new(key.span(), "`model` is given twice"),
                    );
                }
                model = Some(path);
            } else {
                let _: syn::Expr = input.parse()?;
                push(
                    &mut errors,
                    syn::Error::new(
                        key.span(),
                        format!("unknown argument `{key}` of #[guide]: expected `model = path`"),
                    ),
                );
            }
            if !input.is_empty() {
                input.parse::<syn::Token![,]>()?;
            }
        }
        if let Some(e) = errors {
            return Err(e);
        }
        model.map(|model| GuideAttr { model }).ok_or_else(missing)
    };
    syn::parse::Parser::parse2(parser, attr)
}

pub fn push(errors: &mut Option<syn::Error>, e: syn::Error) {
    match errors {
        Some(all) => all.combine(e),
        None => *errors = Some(e),
    }
}

/// A function marked `#[model]` or `#[guide]`, taken apart.
pub struct Function {
    pub item: ItemFn,
    /// Argument patterns.
    pub pats: Vec<Pat>,
    /// Argument types with every lifetime but `'static` replaced by [`ARGS_LIFETIME`].
    pub types: Vec<Type>,
    /// The return type, `()` when none.
    pub output: TokenStream,
}

/// Parses and validates the function; on error, returns the errors together with the item (when
/// it is a function at all) so that the caller can still emit something that type-checks.
pub fn function(
    item: TokenStream,
    attr_name: &str,
) -> Result<Function, (syn::Error, Option<Box<ItemFn>>)> {
    let item: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let span = item
                .clone()
                .into_iter()
                .find(|t| matches!(t, TokenTree::Ident(_)))
                .map(|t| t.span())
                .unwrap_or_else(Span::call_site);
            return Err((
                syn::Error::new(
                    span,
                    format!("#[{attr_name}] can only be applied to a function (`fn`)"),
                ),
                None,
            ));
        }
    };
    let mut errors = None;
    let sig = &item.sig;
    if let Some(t) = &sig.asyncness {
        push(
            &mut errors,
            syn::Error::new(
                t.span,
                format!("#[{attr_name}] functions cannot be `async`"),
            ),
        );
    }
    if let Some(t) = &sig.constness {
        push(
            &mut errors,
            syn::Error::new(
                t.span,
                format!("#[{attr_name}] functions cannot be `const`"),
            ),
        );
    }
    if let syn::Safety::Unsafe(t) = &sig.safety {
        push(
            &mut errors,
            syn::Error::new(
                t.span,
                format!("#[{attr_name}] functions cannot be `unsafe`"),
            ),
        );
    }
    if let Some(v) = &sig.variadic {
        push(
            &mut errors,
            syn::Error::new_spanned(v, format!("#[{attr_name}] functions cannot be variadic")),
        );
    }
    for g in &sig.generics.params {
        if !matches!(g, syn::GenericParam::Lifetime(_)) {
            push(
                &mut errors,
                syn::Error::new_spanned(
                    g,
                    format!("#[{attr_name}] functions cannot be generic (only lifetime parameters are allowed)"),
                ),
            );
        }
    }
    if let Some(w) = &sig.generics.where_clause {
        push(
            &mut errors,
            syn::Error::new_spanned(
                w,
                format!("#[{attr_name}] functions cannot have a `where` clause"),
            ),
        );
    }
    let mut pats = Vec::new();
    let mut types = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => push(
                &mut errors,
                syn::Error::new_spanned(r, format!("#[{attr_name}] functions cannot take `self`")),
            ),
            FnArg::Typed(t) => {
                if let Type::ImplTrait(_) = &*t.ty {
                    push(
                        &mut errors,
                        syn::Error::new_spanned(
                            &t.ty,
                            format!("#[{attr_name}] functions cannot take `impl Trait` arguments"),
                        ),
                    );
                }
                pats.push((*t.pat).clone());
                let mut ty = (*t.ty).clone();
                Lifetimes.visit_type_mut(&mut ty);
                types.push(ty);
            }
        }
    }
    let output = match &sig.output {
        ReturnType::Default => quote::quote!(()),
        ReturnType::Type(_, t) => t.to_token_stream(),
    };
    match errors {
        Some(e) => Err((e, Some(Box::new(item)))),
        None => Ok(Function {
            item,
            pats,
            types,
            output,
        }),
    }
}

/// Replaces every lifetime but `'static` (elided ones included) by [`ARGS_LIFETIME`].
struct Lifetimes;

impl VisitMut for Lifetimes {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        let span = r.and_token.span;
        match &mut r.lifetime {
            None => r.lifetime = Some(Lifetime::new(ARGS_LIFETIME, span)),
            Some(l) => self.visit_lifetime_mut(l),
        }
        self.visit_type_mut(&mut r.elem);
    }
    fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
        if l.ident != "static" {
            *l = Lifetime::new(ARGS_LIFETIME, l.span());
        }
    }
}

/// The normalised text of a type, to compare the types of model and guide arguments: paths are
/// reduced to their last segment (`crate::data::Batch` and `Batch` compare equal, since model
/// and guide may live in different modules) and whitespace is dropped.
pub fn normalised_type(tokens: TokenStream) -> String {
    let toks: Vec<TokenTree> = tokens.into_iter().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < toks.len() {
        if is_path_sep(&toks, i) {
            i += 2;
            continue;
        }
        if let TokenTree::Ident(_) = &toks[i] {
            if is_path_sep(&toks, i + 1) {
                i += 3;
                continue;
            }
        }
        match &toks[i] {
            TokenTree::Group(g) => {
                let (open, close) = match g.delimiter() {
                    Delimiter::Parenthesis => ("(", ")"),
                    Delimiter::Bracket => ("[", "]"),
                    Delimiter::Brace => ("{", "}"),
                    Delimiter::None => ("", ""),
                };
                out.push_str(open);
                out.push_str(&normalised_type(g.stream()));
                out.push_str(close);
            }
            t => {
                out.push_str(&t.to_string());
                // Keep identifiers apart (`dyn Fn`).
                if let TokenTree::Ident(_) = t {
                    out.push(' ');
                }
            }
        }
        i += 1;
    }
    out
}

/// Whether `toks[i..]` starts with `::`.
pub fn is_path_sep(toks: &[TokenTree], i: usize) -> bool {
    matches!(
        (toks.get(i), toks.get(i + 1)),
        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
            if a.as_char() == ':' && a.spacing() == proc_macro2::Spacing::Joint && b.as_char() == ':'
    )
}

/// One argument of a site macro: a positional expression, `key = value`, or a bare flag
/// (a single identifier such as `enumerate`).
pub enum MacroArg {
    Positional(TokenStream),
    Keyword(syn::Ident, TokenStream),
}

impl MacroArg {
    pub fn span(&self) -> Span {
        match self {
            MacroArg::Positional(t) => first_span(t),
            MacroArg::Keyword(k, _) => k.span(),
        }
    }
}

pub fn first_span(t: &TokenStream) -> Span {
    t.clone()
        .into_iter()
        .next()
        .map(|t| t.span())
        .unwrap_or_else(Span::call_site)
}

/// Splits the arguments of a site macro at top-level commas. An argument that starts a closure
/// (`|`, `||`, `move`) or a sequential plate body (`for`) takes every remaining token.
pub fn split_args(input: TokenStream) -> Vec<MacroArg> {
    let toks: Vec<TokenTree> = input.into_iter().collect();
    let mut args = Vec::new();
    let mut cur: Vec<TokenTree> = Vec::new();
    let mut i = 0;
    let finish = |cur: &mut Vec<TokenTree>, args: &mut Vec<MacroArg>| {
        if cur.is_empty() {
            return;
        }
        let toks = std::mem::take(cur);
        // `key = value`, where `=` is not part of `==` or `=>`.
        if toks.len() >= 2 {
            if let (TokenTree::Ident(k), TokenTree::Punct(p)) = (&toks[0], &toks[1]) {
                if p.as_char() == '=' && p.spacing() == proc_macro2::Spacing::Alone {
                    args.push(MacroArg::Keyword(
                        k.clone(),
                        toks[2..].iter().cloned().collect(),
                    ));
                    return;
                }
            }
        }
        args.push(MacroArg::Positional(toks.into_iter().collect()));
    };
    while i < toks.len() {
        let t = &toks[i];
        if cur.is_empty() {
            let starts_body = match t {
                TokenTree::Punct(p) => p.as_char() == '|',
                TokenTree::Ident(id) => id == "move" || id == "for",
                _ => false,
            };
            if starts_body {
                let rest: TokenStream = toks[i..].iter().cloned().collect();
                // Drop one trailing comma.
                let mut rest: Vec<TokenTree> = rest.into_iter().collect();
                if matches!(rest.last(), Some(TokenTree::Punct(p)) if p.as_char() == ',') {
                    rest.pop();
                }
                args.push(MacroArg::Positional(rest.into_iter().collect()));
                return args;
            }
        }
        match t {
            TokenTree::Punct(p) if p.as_char() == ',' => finish(&mut cur, &mut args),
            _ => cur.push(t.clone()),
        }
        i += 1;
    }
    finish(&mut cur, &mut args);
    args
}

/// The literal string in `t`, if `t` is exactly one (possibly inside an invisible group, as
/// produced by `macro_rules` fragments).
pub fn literal_name(t: &TokenStream) -> Option<syn::LitStr> {
    let toks: Vec<TokenTree> = t.clone().into_iter().collect();
    match toks.as_slice() {
        [TokenTree::Literal(_)] => syn::parse2::<syn::LitStr>(t.clone()).ok(),
        [TokenTree::Group(g)] if g.delimiter() == Delimiter::None => literal_name(&g.stream()),
        _ => None,
    }
}
