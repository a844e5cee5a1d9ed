//! Site macros inside the arguments of other macros (`println!("{:?}", sample!(..))`,
//! `vec![deterministic!(..); n]`): where the arguments read as expressions they are walked like
//! the rest of the body; otherwise the tokens are scanned for `path!(..)` invocations of this
//! crate's macros.

use proc_macro2::{Delimiter, Group, TokenStream, TokenTree};
use quote::{quote, ToTokens};
use syn::punctuated::Punctuated;
use syn::visit_mut::VisitMut;
use syn::{Expr, Macro, Path, Token};

use crate::walk::Walker;

impl Walker<'_> {
    /// A macro that is not this crate's: the site macros in its arguments are rewritten where
    /// its arguments read as expressions (`println!("{}", sample!(..))`, `vec![a, b]`,
    /// `vec![x; n]`), else by a scan of its tokens.
    pub(crate) fn foreign(&mut self, mac: &mut Macro) {
        if !mentions_site_macro(&mac.tokens) {
            return;
        }
        let list = Punctuated::<Expr, Token![,]>::parse_terminated;
        if let Ok(mut exprs) = syn::parse::Parser::parse2(list, mac.tokens.clone()) {
            for e in exprs.iter_mut() {
                self.visit_expr_mut(e);
            }
            mac.tokens = exprs.to_token_stream();
            return;
        }
        let repeat = |input: syn::parse::ParseStream| -> syn::Result<(Expr, Token![;], Expr)> {
            Ok((input.parse()?, input.parse()?, input.parse()?))
        };
        if let Ok((mut a, semi, mut b)) = syn::parse::Parser::parse2(repeat, mac.tokens.clone()) {
            self.visit_expr_mut(&mut a);
            self.visit_expr_mut(&mut b);
            mac.tokens = quote!(#a #semi #b);
            return;
        }
        mac.tokens = self.scan(mac.tokens.clone());
    }

    /// Rewrites the site macros found in arbitrary tokens (`path ! (..)`).
    fn scan(&mut self, tokens: TokenStream) -> TokenStream {
        let toks: Vec<TokenTree> = tokens.into_iter().collect();
        let mut out: Vec<TokenTree> = Vec::with_capacity(toks.len());
        let mut i = 0;
        while i < toks.len() {
            if let Some((consumed, mac)) = macro_at(&toks, i) {
                if let Some(kind) = self.recognise(&mac.path) {
                    let start = out.len() - (consumed - 3).min(out.len());
                    out.truncate(start);
                    let code = self.site(kind, &mac);
                    out.push(TokenTree::Group(Group::new(Delimiter::None, code)));
                    i += 3;
                    continue;
                }
            }
            match &toks[i] {
                TokenTree::Group(g) => {
                    let mut n = Group::new(g.delimiter(), self.scan(g.stream()));
                    n.set_span(g.span());
                    out.push(TokenTree::Group(n));
                }
                t => out.push(t.clone()),
            }
            i += 1;
        }
        out.into_iter().collect()
    }
}

/// Whether the tokens may hold a site macro (an identifier that names one, followed by `!`).
fn mentions_site_macro(tokens: &TokenStream) -> bool {
    let toks: Vec<TokenTree> = tokens.clone().into_iter().collect();
    toks.iter().enumerate().any(|(i, t)| match t {
        TokenTree::Ident(id) => {
            crate::kind::is_site_name(&id.to_string())
                && matches!(toks.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!')
        }
        TokenTree::Group(g) => mentions_site_macro(&g.stream()),
        _ => false,
    })
}

/// A macro invocation `path ! (group)` ending at `toks[i..i + 3]` (`name`, `!`, group); the
/// path is read backwards from `name`. Returns how many tokens the path and invocation take.
fn macro_at(toks: &[TokenTree], i: usize) -> Option<(usize, Macro)> {
    let (TokenTree::Ident(name), Some(TokenTree::Punct(bang)), Some(TokenTree::Group(g))) =
        (&toks[i], toks.get(i + 1), toks.get(i + 2))
    else {
        return None;
    };
    if bang.as_char() != '!' || !crate::kind::is_site_name(&name.to_string()) {
        return None;
    }
    // The path before `name`: `a :: b ::`.
    let mut start = i;
    while start >= 3 {
        let is_sep = matches!((&toks[start - 2], &toks[start - 1]),
            (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
        if !is_sep {
            break;
        }
        match &toks[start - 3] {
            TokenTree::Ident(_) => start -= 3,
            _ => break,
        }
    }
    if start >= 2 {
        let leading = matches!((&toks[start - 2], &toks[start - 1]),
            (TokenTree::Punct(a), TokenTree::Punct(b)) if a.as_char() == ':' && b.as_char() == ':');
        if leading {
            start -= 2;
        }
    }
    let path_tokens: TokenStream = toks[start..=i].iter().cloned().collect();
    let path: Path = syn::parse2(path_tokens).ok()?;
    let mac = Macro {
        path,
        bang_token: Token![!](bang.span()),
        delimiter: match g.delimiter() {
            Delimiter::Brace => syn::MacroDelimiter::Brace(syn::token::Brace(g.delim_span())),
            Delimiter::Bracket => syn::MacroDelimiter::Bracket(syn::token::Bracket(g.delim_span())),
            _ => syn::MacroDelimiter::Paren(syn::token::Paren(g.delim_span())),
        },
        tokens: g.stream(),
    };
    Some((i - start + 3, mac))
}
