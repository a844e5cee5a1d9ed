//! The arguments of the attributes: `#[model]`, `#[model(crate = path)]`,
//! `#[guide(model = path)]`, `#[guide(model = path, crate = path)]`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{ParseStream, Parser};
use syn::{Ident, LitStr, Path, Token};

use crate::ctxt::Errors;

/// Which attribute.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Which {
    Model,
    Guide,
}

impl Which {
    pub fn name(self) -> &'static str {
        match self {
            Which::Model => "model",
            Which::Guide => "guide",
        }
    }
}

/// The parsed arguments.
pub struct Attr {
    pub which: Which,
    /// `model = path` of a guide.
    pub model: Option<Path>,
    /// `crate = path`: where the `pyro` crate is (for a renamed dependency), `::pyro` by default.
    pub krate: TokenStream,
}

/// Parses the attribute's arguments; errors go to `errors`, and what could be read is kept.
pub fn parse(which: Which, args: TokenStream, errors: &mut Errors) -> Attr {
    let mut attr = Attr {
        which,
        model: None,
        krate: quote!(::pyro),
    };
    let parser = |input: ParseStream| -> syn::Result<()> {
        let mut seen_crate = false;
        while !input.is_empty() {
            // `crate` is a keyword: accept it as the key.
            let key: Ident = if input.peek(Token![crate]) {
                let k: Token![crate] = input.parse()?;
                Ident::new("crate", k.span)
            } else {
                input.parse()?
            };
            if !input.peek(Token![=]) {
                return Err(syn::Error::new(
                    key.span(),
                    format!(
                        "expected `{key} = ...` in the arguments of #[{}]",
                        which.name()
                    ),
                ));
            }
            input.parse::<Token![=]>()?;
            if key == "crate" {
                // `crate = path` or, as serde writes it, `crate = "path"`.
                let path: Path = if input.peek(LitStr) {
                    let lit: LitStr = input.parse()?;
                    lit.parse()?
                } else {
                    Path::parse_mod_style(input)?
                };
                if seen_crate {
                    errors.at(key.span(), "`crate` is given twice");
                }
                seen_crate = true;
                attr.krate = quote!(#path);
            } else if key == "model" && which == Which::Guide {
                let path: Path = input.parse()?;
                if attr.model.is_some() {
                    errors.at(key.span(), "`model` is given twice");
                }
                attr.model = Some(path);
            } else {
                let _: syn::Expr = input.parse()?;
                let expected = match which {
                    Which::Model => "`crate = path`",
                    Which::Guide => "`model = path` or `crate = path`",
                };
                errors.at(
                    key.span(),
                    format!(
                        "unknown argument `{key}` of #[{}]: expected {expected}",
                        which.name()
                    ),
                );
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        Ok(())
    };
    if let Err(e) = parser.parse2(args) {
        errors.push(e);
    }
    attr
}

/// The error of a `#[guide]` without `model = ...`.
pub fn missing_model(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[guide] needs the model it guides: write `#[guide(model = my_model)]`",
    )
}
