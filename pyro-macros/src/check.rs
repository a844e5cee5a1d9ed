//! Compile-time checks: the same literal site name twice in one function, and a guide against
//! its model's static description (`check_guide!`).

use proc_macro2::{Delimiter, TokenStream, TokenTree};
use syn::parse::{Parse, ParseStream};
use syn::{braced, bracketed, Ident, LitBool, LitStr};

use crate::parse::normalised_type;
use crate::rewrite::{Site, SiteKind};

/// Whether two sites can never both run: they sit in different arms of one branch.
fn exclusive(a: &Site, b: &Site) -> bool {
    a.branches.iter().any(|(id, arm)| {
        b.branches
            .iter()
            .any(|(id2, arm2)| id == id2 && arm != arm2)
    })
}

/// The same literal name twice in one function (a parameter read twice is one parameter).
pub fn duplicates(sites: &[Site], fn_name: &str) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    for (j, b) in sites.iter().enumerate() {
        let first = sites[..j].iter().find(|a| {
            a.name.value() == b.name.value()
                && !(a.kind == SiteKind::Param && b.kind == SiteKind::Param)
                && !exclusive(a, b)
        });
        if first.is_some() {
            errors.push(syn::Error::new(
                b.name.span(),
                format!(
                    "site {:?} is used twice in `{fn_name}`: site names must be unique within a run (only different branches of an `if`/`match` may repeat one)",
                    b.name.value()
                ),
            ));
        }
    }
    errors
}

/// A function's static description, as forwarded through the model's description macro:
/// `NAME args [{T} ...] latent ["a" ...] enumerated [...] observed [...] dynamic BOOL`.
pub struct Description {
    pub name: Ident,
    pub args: Vec<TokenStream>,
    pub latent: Vec<LitStr>,
    pub enumerated: Vec<LitStr>,
    pub observed: Vec<LitStr>,
    pub dynamic: bool,
}

fn keyword(input: ParseStream, kw: &str) -> syn::Result<()> {
    let id: Ident = input.parse()?;
    if id != kw {
        return Err(syn::Error::new(id.span(), format!("expected `{kw}`")));
    }
    Ok(())
}

fn lits(input: ParseStream, kw: &str) -> syn::Result<Vec<LitStr>> {
    keyword(input, kw)?;
    let content;
    bracketed!(content in input);
    let mut v = Vec::new();
    while !content.is_empty() {
        v.push(content.parse()?);
    }
    Ok(v)
}

impl Parse for Description {
    fn parse(input: ParseStream) -> syn::Result<Description> {
        let name: Ident = input.parse()?;
        keyword(input, "args")?;
        let content;
        bracketed!(content in input);
        let mut args = Vec::new();
        while !content.is_empty() {
            let ty;
            braced!(ty in content);
            args.push(ty.parse::<TokenStream>()?);
        }
        let latent = lits(input, "latent")?;
        let enumerated = lits(input, "enumerated")?;
        let observed = lits(input, "observed")?;
        keyword(input, "dynamic")?;
        let dynamic: LitBool = input.parse()?;
        Ok(Description {
            name,
            args,
            latent,
            enumerated,
            observed,
            dynamic: dynamic.value,
        })
    }
}

struct Input {
    model: Description,
    guide: Description,
}

impl Parse for Input {
    fn parse(input: ParseStream) -> syn::Result<Input> {
        keyword(input, "model")?;
        let model = input.parse()?;
        keyword(input, "guide")?;
        let guide = input.parse()?;
        Ok(Input { model, guide })
    }
}

/// Unwraps invisible groups that `macro_rules` forwarding may add around tokens.
fn flatten(t: TokenStream) -> TokenStream {
    t.into_iter()
        .flat_map(|t| match t {
            TokenTree::Group(g) if g.delimiter() == Delimiter::None => flatten(g.stream()),
            TokenTree::Group(g) => {
                let mut n = proc_macro2::Group::new(g.delimiter(), flatten(g.stream()));
                n.set_span(g.span());
                TokenStream::from(TokenTree::Group(n))
            }
            t => TokenStream::from(t),
        })
        .collect()
}

pub fn check_guide(input: TokenStream) -> TokenStream {
    let Input { model, guide } = match syn::parse2(flatten(input)) {
        Ok(i) => i,
        Err(e) => return e.to_compile_error(),
    };
    let (m, g) = (model.name.to_string(), guide.name.to_string());
    let mut errors: Vec<syn::Error> = Vec::new();
    let has = |v: &[LitStr], s: &str| v.iter().any(|l| l.value() == s);

    // a. A latent model site with a literal name that the guide never samples.
    if !guide.dynamic {
        let mut seen = Vec::new();
        for site in &model.latent {
            let s = site.value();
            if has(&model.enumerated, &s) || has(&guide.latent, &s) || seen.contains(&s) {
                continue;
            }
            errors.push(syn::Error::new(
                guide.name.span(),
                format!("guide `{g}` does not sample site {s:?} of model `{m}`"),
            ));
            seen.push(s);
        }
    }
    // b. A guide site that the model enumerates, observes or does not have.
    for site in &guide.latent {
        let s = site.value();
        let msg = if has(&model.enumerated, &s) {
            format!("guide `{g}` samples site {s:?}, which model `{m}` enumerates: an enumerated site must not be sampled by the guide")
        } else if has(&model.latent, &s) {
            continue;
        } else if has(&model.observed, &s) {
            format!("guide `{g}` samples site {s:?}, which is observed in model `{m}`")
        } else if model.dynamic {
            continue;
        } else {
            format!("guide `{g}` samples site {s:?}, which model `{m}` does not have")
        };
        errors.push(syn::Error::new(site.span(), msg));
    }
    // c. Argument types.
    if model.args.len() != guide.args.len() {
        errors.push(syn::Error::new(
            guide.name.span(),
            format!(
                "guide `{g}` takes {} argument{} but model `{m}` takes {}: a guide takes the same arguments as its model",
                guide.args.len(),
                if guide.args.len() == 1 { "" } else { "s" },
                model.args.len()
            ),
        ));
    } else {
        for (i, (mt, gt)) in model.args.iter().zip(&guide.args).enumerate() {
            if normalised_type(mt.clone()) != normalised_type(gt.clone()) {
                errors.push(syn::Error::new_spanned(
                    gt,
                    format!(
                        "argument {} of guide `{g}` has type `{}` but model `{m}` takes `{}`: a guide takes the same arguments as its model",
                        i + 1,
                        pretty(gt),
                        pretty(mt)
                    ),
                ));
            }
        }
    }
    errors.into_iter().map(|e| e.to_compile_error()).collect()
}

/// A type as the user wrote it, for messages (`& [f64]` becomes `&[f64]`).
fn pretty(t: &TokenStream) -> String {
    match syn::parse2::<syn::Type>(t.clone()) {
        Ok(ty) => {
            let s = quote::ToTokens::to_token_stream(&ty).to_string();
            s.replace("& ", "&")
                .replace(" ,", ",")
                .replace("[ ", "[")
                .replace(" ]", "]")
                .replace("< ", "<")
                .replace(" <", "<")
                .replace(" >", ">")
                .replace("( ", "(")
                .replace(" )", ")")
                .replace(" :: ", "::")
                .replace("' ", "'")
                .replace("&'__pyro_a ", "&")
                .replace("'__pyro_a", "'_")
        }
        Err(_) => t.to_string(),
    }
}
