//! What the macro can tell about a site's name from its expression: known exactly (a literal,
//! or a `concat!` of literals), known exactly to rustc only (a path to a `const`, a `concat!`
//! of consts: the expression is repeated in the description, where rustc evaluates it), or built
//! at run time with a known literal prefix (`format!("x_{i}")`: `"x_"`; a variable: `""`).

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::punctuated::Punctuated;
use syn::{Expr, Lit, Token};

use crate::scope::Scopes;

pub enum Name {
    /// Known to the macro.
    Literal(String),
    /// Known to rustc: the expression, and its text (the same text twice is the same name).
    Const { expr: Expr, key: String },
    /// Built at run time, starting with this literal text.
    Prefix(String),
}

impl Name {
    /// The `NamePattern` of the description.
    pub fn pattern(&self, krate: &TokenStream) -> TokenStream {
        let np = quote!(#krate::infer::description::NamePattern);
        match self {
            Name::Literal(s) => quote!(#np::Exact(#s)),
            Name::Const { expr, .. } => quote!(#np::Exact(#expr)),
            Name::Prefix(p) => quote!(#np::Prefix(#p)),
        }
    }

    /// What identifies the name for the duplicate and loop checks, when it is a fixed name.
    pub fn key(&self) -> Option<String> {
        match self {
            Name::Literal(s) => Some(format!("\"{s}\"")),
            Name::Const { key, .. } => Some(key.clone()),
            Name::Prefix(_) => None,
        }
    }

    /// A name to suggest in a `format!` (`z` of `"z"`).
    pub fn stem(&self) -> String {
        match self {
            Name::Literal(s) => s.clone(),
            Name::Const { .. } | Name::Prefix(_) => "name".to_string(),
        }
    }
}

/// Classifies a site-name expression. `scopes` tells locals (whose value only exists at run
/// time) from paths to consts.
pub fn classify(expr: &Expr, scopes: &Scopes) -> Name {
    match expr {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Name::Literal(s.value()),
            _ => Name::Prefix(String::new()),
        },
        Expr::Group(g) => classify(&g.expr, scopes),
        Expr::Paren(p) => classify(&p.expr, scopes),
        Expr::Path(p) if p.qself.is_none() => {
            let single = p.path.segments.len() == 1 && p.path.leading_colon.is_none();
            let first = &p.path.segments[0];
            let local = single && scopes.is_local(&first.ident.to_string());
            if local || !first.arguments.is_none() {
                Name::Prefix(String::new())
            } else {
                Name::Const {
                    expr: expr.clone(),
                    key: expr.to_token_stream().to_string(),
                }
            }
        }
        Expr::Macro(m) => {
            let last = m
                .mac
                .path
                .segments
                .last()
                .map(|s| s.ident.to_string())
                .unwrap_or_default();
            match last.as_str() {
                "concat" => concat(expr, &m.mac.tokens),
                "stringify" => Name::Const {
                    expr: expr.clone(),
                    key: expr.to_token_stream().to_string(),
                },
                "format" => format(&m.mac.tokens),
                _ => Name::Prefix(String::new()),
            }
        }
        // `"z".to_string()`, `"z".to_owned()`, `"z".into()`.
        Expr::MethodCall(c)
            if c.args.is_empty()
                && ["to_string", "to_owned", "into"]
                    .iter()
                    .any(|m| c.method == m) =>
        {
            match classify(&c.receiver, scopes) {
                n @ Name::Literal(_) => n,
                _ => Name::Prefix(String::new()),
            }
        }
        // `String::from("z")`.
        Expr::Call(c) if c.args.len() == 1 && is_string_from(&c.func) => {
            match classify(&c.args[0], scopes) {
                n @ Name::Literal(_) => n,
                _ => Name::Prefix(String::new()),
            }
        }
        _ => Name::Prefix(String::new()),
    }
}

fn is_string_from(f: &Expr) -> bool {
    let Expr::Path(p) = f else { return false };
    let segs: Vec<String> = p
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    segs.ends_with(&["String".to_string(), "from".to_string()])
}

/// `concat!` of literals is evaluated here; of anything else, by rustc.
fn concat(expr: &Expr, tokens: &TokenStream) -> Name {
    let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
    let rustc = || Name::Const {
        expr: expr.clone(),
        key: expr.to_token_stream().to_string(),
    };
    let Ok(args) = syn::parse::Parser::parse2(parser, tokens.clone()) else {
        return rustc();
    };
    let mut out = String::new();
    for a in &args {
        match literal_text(a) {
            Some(t) => out.push_str(&t),
            None => return rustc(),
        }
    }
    Name::Literal(out)
}

/// The text `concat!` makes of a literal.
fn literal_text(e: &Expr) -> Option<String> {
    match e {
        Expr::Lit(l) => match &l.lit {
            Lit::Str(s) => Some(s.value()),
            Lit::Char(c) => Some(c.value().to_string()),
            Lit::Int(i) if i.suffix().is_empty() => Some(i.base10_digits().to_string()),
            Lit::Float(f) if f.suffix().is_empty() => Some(f.base10_digits().to_string()),
            Lit::Bool(b) => Some(b.value.to_string()),
            _ => None,
        },
        Expr::Group(g) => literal_text(&g.expr),
        Expr::Unary(u) if matches!(u.op, syn::UnOp::Neg(_)) => {
            literal_text(&u.expr).map(|t| format!("-{t}"))
        }
        _ => None,
    }
}

/// `format!("x_{i}")`: the literal text before the first placeholder; the whole text when there
/// is none.
fn format(tokens: &TokenStream) -> Name {
    let parser = Punctuated::<Expr, Token![,]>::parse_terminated;
    let Ok(args) = syn::parse::Parser::parse2(parser, tokens.clone()) else {
        return Name::Prefix(String::new());
    };
    let Some(Expr::Lit(syn::ExprLit {
        lit: Lit::Str(s), ..
    })) = args.first()
    else {
        return Name::Prefix(String::new());
    };
    let (prefix, placeholder) = format_prefix(&s.value());
    if placeholder {
        Name::Prefix(prefix)
    } else {
        Name::Literal(prefix)
    }
}

/// The text before the first `{` placeholder (`{{` and `}}` are escaped braces), and whether
/// there is a placeholder.
pub fn format_prefix(s: &str) -> (String, bool) {
    let mut out = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '{' => return (out, true),
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            c => out.push(c),
        }
    }
    (out, false)
}
