//! Whether the value of `obs = value` is an `Option` (Pyro's `obs=None`): then the site is
//! observed when it is `Some` and sampled when it is `None`, and the model's description calls
//! it maybe-observed. A macro does not see types, so it reads them where the user wrote them: a
//! function argument or a `let` declared `Option<..>`, `None`, `Some(..)`, and what the
//! `Option` methods that keep an `Option` make of them (`y.map(|y| y[i])`, `y.as_deref()`).
//! Any other value must convert into a tensor; an `Option` the macro cannot see is a type
//! error whose message says how to declare it (see `language::ObservedValue`).

use syn::{Expr, Type};

use crate::scope::Scopes;

/// The methods of `Option` that return an `Option` again.
const OPTION_TO_OPTION: &[&str] = &[
    "map", "as_ref", "as_deref", "as_mut", "cloned", "copied", "clone", "and_then", "filter", "or",
    "or_else", "xor", "and", "take",
];

/// Whether `expr` is, as far as the macro can tell, an `Option`.
pub fn is_option(expr: &Expr, scopes: &Scopes) -> bool {
    match expr {
        Expr::Group(g) => is_option(&g.expr, scopes),
        Expr::Paren(p) => is_option(&p.expr, scopes),
        Expr::Reference(r) => is_option(&r.expr, scopes),
        Expr::Path(p) if p.qself.is_none() => {
            let segs = &p.path.segments;
            let last = segs.last().map(|s| s.ident.to_string()).unwrap_or_default();
            if segs.len() == 1 && scopes.is_local(&last) {
                scopes.is_option(&last)
            } else {
                last == "None"
            }
        }
        Expr::Call(c) => matches!(
            &*c.func,
            Expr::Path(p) if p.path.segments.last().is_some_and(|s| s.ident == "Some")
        ),
        Expr::MethodCall(m) => {
            OPTION_TO_OPTION.iter().any(|n| m.method == n) && is_option(&m.receiver, scopes)
        }
        _ => false,
    }
}

/// Whether a declared type is `Option<..>` (also behind references and parentheses).
pub fn is_option_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_option_type(&r.elem),
        Type::Paren(p) => is_option_type(&p.elem),
        Type::Group(g) => is_option_type(&g.elem),
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().is_some_and(|s| {
            s.ident == "Option" && matches!(s.arguments, syn::PathArguments::AngleBracketed(_))
        }),
        _ => false,
    }
}
