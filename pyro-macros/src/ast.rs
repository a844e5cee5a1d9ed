//! The crate's typed view of a function marked `#[model]` or `#[guide]`: attributes sorted by
//! where they go, the signature taken apart, the body parsed (or not, when it has a syntax error
//! that rustc reports itself).

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::parse::{Parse, ParseStream};
use syn::visit_mut::VisitMut;
use syn::{Attribute, Block, FnArg, Ident, Lifetime, Pat, ReturnType, Signature, Type, Visibility};

use crate::attr::Which;
use crate::ctxt::Errors;

const BOTH: &str = "a function cannot be both a #[model] and a #[guide] (a guide is a model of its own: `#[guide(model = ...)]` alone)";

/// The lifetime of `Args<'a>` when the function declares none.
const DEFAULT_LIFETIME: &str = "'args";

/// A function marked `#[model]` or `#[guide]`.
pub struct Function {
    /// `#[doc]`s: on the generated unit struct.
    pub docs: Vec<Attribute>,
    /// `#[cfg]`s: on every generated item.
    pub cfgs: Vec<Attribute>,
    /// `#[deprecated]`: on the unit struct.
    pub deprecated: Vec<Attribute>,
    /// Everything else (`#[allow]`, `#[inline]`, ...): on the generated `call`.
    pub others: Vec<Attribute>,
    pub vis: Visibility,
    pub sig: Signature,
    pub name: Ident,
    /// The body, or `None` when it does not parse (rustc reports the syntax error).
    pub body: Option<Block>,
    /// Argument patterns and types (lifetimes normalised to [`Function::lifetime`]).
    pub args: Vec<(Pat, Type)>,
    /// The lifetime of `Args<'a>`.
    pub lifetime: Lifetime,
    /// The return type, `()` when none.
    pub output: TokenStream,
    /// Whether the signature is one the macro can expand (else see `fallback`).
    pub sig_ok: bool,
    /// Whether the function declares type or const parameters (an error).
    pub generic: bool,
    /// Whether it takes `self` (an error): a method in an `impl` block, where no unit struct can
    /// be defined.
    pub method: bool,
}

/// What the attribute was applied to.
pub enum Item {
    Function(Box<Function>),
    /// Something else, or something for another attribute to expand: kept as written.
    Other(TokenStream),
}

/// The item with its body left unparsed: a body with a syntax error must not hide the
/// signature (rustc reports the syntax error; the unit struct is still emitted).
struct Raw {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    body: TokenStream,
}

impl Parse for Raw {
    fn parse(input: ParseStream) -> syn::Result<Raw> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        let body: TokenStream = input.parse()?;
        Ok(Raw {
            attrs,
            vis,
            sig,
            body,
        })
    }
}

/// Reads the item. Misuses (not a function, `async`, generic, `self`, a doubled attribute...)
/// are reported to `errors`; the function is returned whenever its signature could be read, so
/// that the unit struct can still be emitted (no cascade of errors at its uses).
pub fn parse(item: TokenStream, which: Which, errors: &mut Errors) -> Item {
    let raw: Raw = match syn::parse2(item.clone()) {
        Ok(raw) => raw,
        Err(_) => {
            // A function with a syntax error in its signature: rustc reports it; emitting nothing
            // adds no error of ours.
            let is_fn = item
                .clone()
                .into_iter()
                .any(|t| matches!(&t, TokenTree::Ident(i) if i == "fn"));
            if is_fn {
                return Item::Other(TokenStream::new());
            }
            let span = item
                .clone()
                .into_iter()
                .find(|t| matches!(t, TokenTree::Ident(_)))
                .map_or_else(Span::call_site, |t| t.span());
            errors.at(
                span,
                format!(
                    "#[{}] can only be applied to a function (`fn`)",
                    which.name()
                ),
            );
            return Item::Other(item);
        }
    };
    // `#[model] #[guide(..)] fn`: an error, and the guide attribute expands the function (so
    // that its pairing with the model exists: no follow-on errors).
    if which == Which::Model {
        if let Some(g) = raw
            .attrs
            .iter()
            .find(|a| pyro_attribute(a).as_deref() == Some("guide"))
        {
            errors.spanned(g, BOTH);
            return Item::Other(item);
        }
    }
    let body = syn::parse2::<Block>(raw.body).ok();
    let mut f = Function {
        docs: Vec::new(),
        cfgs: Vec::new(),
        deprecated: Vec::new(),
        others: Vec::new(),
        vis: raw.vis,
        name: raw.sig.ident.clone(),
        lifetime: Lifetime::new(DEFAULT_LIFETIME, Span::call_site()),
        sig: raw.sig,
        body,
        args: Vec::new(),
        output: quote!(()),
        sig_ok: true,
        generic: false,
        method: false,
    };
    for a in raw.attrs {
        if is_attr(&a, "doc") {
            f.docs.push(a);
        } else if is_attr(&a, "cfg") {
            f.cfgs.push(a);
        } else if is_attr(&a, "deprecated") {
            f.deprecated.push(a);
        } else if let Some(other) = pyro_attribute(&a) {
            if other == which.name() {
                errors.spanned(&a, format!("#[{other}] is given twice"));
            } else {
                errors.spanned(&a, BOTH);
            }
        } else {
            f.others.push(a);
        }
    }
    let before = errors.len();
    signature(&mut f, which, errors);
    f.sig_ok = errors.len() == before;
    Item::Function(Box::new(f))
}

fn is_attr(a: &Attribute, name: &str) -> bool {
    a.path().is_ident(name)
}

/// `#[model]`, `#[pyro::guide(..)]`, `#[p::model]`: another of this crate's attributes.
fn pyro_attribute(a: &Attribute) -> Option<String> {
    let path = a.path();
    let last = path.segments.last()?.ident.to_string();
    let ours = match path.segments.len() {
        1 => true,
        2 => path.segments[0].ident != "self" && path.segments[0].ident != "crate",
        _ => false,
    };
    (ours && (last == "model" || last == "guide")).then_some(last)
}

/// Checks the signature and takes it apart.
fn signature(f: &mut Function, which: Which, errors: &mut Errors) {
    let what = format!("#[{}] functions", which.name());
    let sig = &f.sig;
    if let Some(t) = &sig.asyncness {
        errors.at(t.span, format!("{what} cannot be `async`"));
    }
    if let Some(t) = &sig.constness {
        errors.at(t.span, format!("{what} cannot be `const`"));
    }
    if let syn::Safety::Unsafe(t) = &sig.safety {
        errors.at(t.span, format!("{what} cannot be `unsafe`"));
    }
    if let Some(abi) = &sig.abi {
        errors.spanned(abi, format!("{what} cannot have an `extern` ABI"));
    }
    if let Some(v) = &sig.variadic {
        errors.spanned(v, format!("{what} cannot be variadic"));
    }
    let mut lifetimes = Vec::new();
    for g in &sig.generics.params {
        match g {
            syn::GenericParam::Lifetime(l) => lifetimes.push(l.lifetime.clone()),
            _ => {
                f.generic = true;
                errors.spanned(
                    g,
                    format!("{what} cannot be generic (only lifetime parameters are allowed)"),
                );
            }
        }
    }
    if let Some(w) = &sig.generics.where_clause {
        errors.spanned(w, format!("{what} cannot have a `where` clause"));
    }
    // The arguments share one lifetime, `Args<'a>`'s: the function's own when it declares one,
    // so that the body may name it.
    if let Some(l) = lifetimes.first() {
        f.lifetime = l.clone();
    }
    let mut normalise = Lifetimes(f.lifetime.clone());
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => {
                f.method = true;
                errors.spanned(
                    r,
                    format!("{what} cannot take `self`: a model is a value of its own type, which a method cannot define; pass what it needs as an argument instead (`fn model(vae: &Vae, x: &Tensor)`, with networks bound by `module!`)"),
                );
            }
            FnArg::Typed(t) => {
                if let Type::ImplTrait(_) = &*t.ty {
                    errors.spanned(&t.ty, format!("{what} cannot take `impl Trait` arguments"));
                    continue;
                }
                let mut ty = (*t.ty).clone();
                normalise.visit_type_mut(&mut ty);
                f.args.push(((*t.pat).clone(), ty));
            }
        }
    }
    f.output = match &sig.output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, t) => {
            if let Type::ImplTrait(_) = &**t {
                errors.spanned(t, format!("{what} cannot return `impl Trait`"));
                quote!(())
            } else {
                t.to_token_stream()
            }
        }
    };
}

/// Replaces every lifetime but `'static` (elided ones included) by the arguments' lifetime.
struct Lifetimes(Lifetime);

impl VisitMut for Lifetimes {
    fn visit_type_reference_mut(&mut self, r: &mut syn::TypeReference) {
        match &mut r.lifetime {
            None => r.lifetime = Some(Lifetime::new(&self.0.to_string(), r.and_token.span)),
            Some(l) => self.visit_lifetime_mut(l),
        }
        self.visit_type_mut(&mut r.elem);
    }
    fn visit_lifetime_mut(&mut self, l: &mut Lifetime) {
        if l.ident != "static" {
            *l = Lifetime::new(&self.0.to_string(), l.span());
        }
    }
}

impl Function {
    /// `Args<'a>`: the argument type, a tuple for several.
    pub fn args_type(&self) -> TokenStream {
        let types = self.args.iter().map(|(_, t)| t);
        match self.args.len() {
            1 => quote!(#(#types)*),
            _ => quote!((#(#types,)*)),
        }
    }

    /// The pattern that takes `Args<'a>` apart.
    pub fn args_pattern(&self) -> TokenStream {
        let pats = self.args.iter().map(|(p, _)| p);
        match self.args.len() {
            1 => quote!(#(#pats)*),
            _ => quote!((#(#pats,)*)),
        }
    }

    /// The identifiers the arguments bind.
    pub fn arg_bindings(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (p, _) in &self.args {
            crate::scope::bindings(p, &mut out);
        }
        out
    }
}
