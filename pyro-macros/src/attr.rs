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
        krate: default_crate(),
    };
    let parser = |input: ParseStream| -> syn::Result<()> {
        let mut seen_crate = false;
        while !input.is_empty() {
            let expected = match which {
                Which::Model => "`crate = path`",
                Which::Guide => "`model = path` or `crate = path`",
            };
            // `crate` is a keyword: accept it as the key.
            let key: Ident = if input.peek(Token![crate]) {
                let k: Token![crate] = input.parse()?;
                Ident::new("crate", k.span)
            } else if input.peek(syn::Ident) {
                input.parse()?
            } else {
                let rest: TokenStream = input.parse()?;
                return Err(syn::Error::new_spanned(
                    rest,
                    format!(
                        "unexpected argument of #[{}]: expected {expected}",
                        which.name()
                    ),
                ));
            };
            if !input.peek(Token![=]) || input.peek(Token![==]) || input.peek(Token![=>]) {
                let known = key == "crate" || (key == "model" && which == Which::Guide);
                let message = if known {
                    format!(
                        "expected `{key} = ...` in the arguments of #[{}]",
                        which.name()
                    )
                } else if which == Which::Guide {
                    format!("unknown argument `{key}` of #[guide]: expected `model = path` (the model this guide guides) or `crate = path`")
                } else {
                    format!("unknown argument `{key}` of #[model]: expected `crate = path`")
                };
                return Err(syn::Error::new(key.span(), message));
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
                // `model = path` or `model = "path"`.
                let path: Path = if input.peek(LitStr) {
                    let lit: LitStr = input.parse()?;
                    lit.parse()?
                } else {
                    input.parse().map_err(|e: syn::Error| {
                        syn::Error::new(
                            e.span(),
                            "expected the path of a model after `model =` (`model = my_model`)",
                        )
                    })?
                };
                if attr.model.is_some() {
                    errors.at(key.span(), "`model` is given twice");
                }
                attr.model = Some(path);
            } else {
                let _: syn::Expr = input.parse()?;
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

/// The path of the `pyro` crate when the attribute does not say (`crate = path`): the name under
/// which the calling crate's `Cargo.toml` depends on the `pyro-ppl` package (`pyro`, or `pp`
/// after `pp = { package = "pyro-ppl", .. }`), read with `proc-macro-crate`. Within the package
/// itself (its tests, examples and doc tests), or when the manifest cannot be read, `::pyro`,
/// the library's name.
fn default_crate() -> TokenStream {
    match proc_macro_crate::crate_name("pyro-ppl") {
        // The dependency's key when it renames the package (`pp = { package = "pyro-ppl" }`).
        // A key `pyro-ppl` does not rename it: the library is then `pyro`, its `[lib]` name
        // (the package's own tests and examples also come here).
        Ok(proc_macro_crate::FoundCrate::Name(name)) if name != "pyro_ppl" => {
            let name = Ident::new(&name, Span::call_site());
            quote!(::#name)
        }
        Ok(_) | Err(_) => quote!(::pyro),
    }
}

/// The error of a `#[guide]` without `model = ...`.
pub fn missing_model(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[guide] needs the model it guides: write `#[guide(model = my_model)]`",
    )
}
