//! Token-level rewriting of a model or guide body: every `sample!`, `param!`, `plate!`,
//! `factor!`, `deterministic!` and `call!` (bare or as `pyro::name!`), at any depth, including
//! inside other macros' arguments, becomes a call on the hidden context. On the way it records
//! the function's static description: its sites, with the branch they sit in.

use proc_macro2::{Delimiter, Group, Ident, Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};

use crate::parse::{first_span, is_path_sep, literal_name, split_args, MacroArg};

/// The site macros that `#[model]` and `#[guide]` rewrite.
pub const MACROS: &[&str] = &[
    "sample",
    "param",
    "plate",
    "factor",
    "deterministic",
    "call",
    "markov",
];

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum SiteKind {
    Sample,
    Param,
    Factor,
    Deterministic,
}

/// A site with a literal name.
pub struct Site {
    pub kind: SiteKind,
    pub name: syn::LitStr,
    pub observed: bool,
    pub enumerate: bool,
    /// The branches (if/else chain or match, arm) that enclose the site, outermost first.
    pub branches: Vec<(u32, u32)>,
}

impl Site {
    pub fn is_latent(&self) -> bool {
        self.kind == SiteKind::Sample && !self.observed
    }
}

pub struct Rewriter {
    /// The hidden context identifier (mixed-site hygiene: user code cannot name it).
    pub ctx: Ident,
    pub is_guide: bool,
    pub fn_name: String,
    pub sites: Vec<Site>,
    /// A sample site whose name is built at run time.
    pub dynamic: bool,
    /// A `call!` of another model: its sites are unknown here.
    pub has_call: bool,
    pub has_plate: bool,
    pub errors: Vec<syn::Error>,
    branches: Vec<(u32, u32)>,
    next_branch: u32,
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn is_ident(t: Option<&TokenTree>, s: &str) -> bool {
    matches!(t, Some(TokenTree::Ident(i)) if i == s)
}

impl Rewriter {
    pub fn new(fn_name: String, is_guide: bool) -> Rewriter {
        Rewriter {
            ctx: Ident::new("__pyro_ctx", Span::mixed_site()),
            is_guide,
            fn_name,
            sites: Vec::new(),
            dynamic: false,
            has_call: false,
            has_plate: false,
            errors: Vec::new(),
            branches: Vec::new(),
            next_branch: 0,
        }
    }

    fn ctx_at(&self, span: Span) -> Ident {
        Ident::new("__pyro_ctx", Span::mixed_site().located_at(span))
    }

    fn error(&mut self, span: Span, msg: impl std::fmt::Display) {
        self.errors.push(syn::Error::new(span, msg));
    }

    /// Rewrites a token stream. `match_arms`: the stream is the body of a `match`, whose arms
    /// are mutually exclusive branches (the innermost entry of `self.branches`).
    pub fn rewrite(&mut self, input: TokenStream, match_arms: bool) -> TokenStream {
        let toks: Vec<TokenTree> = input.into_iter().collect();
        let mut out: Vec<TokenTree> = Vec::with_capacity(toks.len());
        // An if/else chain at this level: (branch id, arm), and whether its next block is due.
        let mut chain: Option<(u32, u32)> = None;
        let mut block_due = false;
        let mut match_due = false;
        let mut arms = 0u32;
        let mut i = 0;
        while i < toks.len() {
            if let Some((consumed, name, group)) = self.site_macro(&toks, i, &out) {
                let expanded = self.expand(&name, group);
                out.extend(expanded);
                i += consumed;
                continue;
            }
            let t = &toks[i];
            match t {
                TokenTree::Ident(id) if id == "if" => {
                    if !is_ident(out.last(), "else") {
                        chain = Some((self.next_branch, 0));
                        self.next_branch += 1;
                    }
                    block_due = true;
                    out.push(t.clone());
                }
                TokenTree::Ident(id) if id == "else" && chain.is_some() => {
                    if let Some((_, arm)) = &mut chain {
                        *arm += 1;
                    }
                    block_due = true;
                    out.push(t.clone());
                }
                TokenTree::Ident(id) if id == "match" => {
                    match_due = true;
                    out.push(t.clone());
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && block_due => {
                    block_due = false;
                    let frame = chain.expect("an if chain is open");
                    self.branches.push(frame);
                    let inner = self.rewrite(g.stream(), false);
                    self.branches.pop();
                    out.push(regroup(g, inner));
                    if !is_ident(toks.get(i + 1), "else") {
                        chain = None;
                    }
                }
                TokenTree::Group(g) if g.delimiter() == Delimiter::Brace && match_due => {
                    match_due = false;
                    self.branches.push((self.next_branch, 0));
                    self.next_branch += 1;
                    let inner = self.rewrite(g.stream(), true);
                    self.branches.pop();
                    out.push(regroup(g, inner));
                }
                TokenTree::Group(g) => {
                    let inner = self.rewrite(g.stream(), false);
                    out.push(regroup(g, inner));
                }
                TokenTree::Punct(p)
                    if match_arms
                        && p.as_char() == '='
                        && p.spacing() == proc_macro2::Spacing::Joint
                        && is_punct(toks.get(i + 1), '>') =>
                {
                    if let Some(last) = self.branches.last_mut() {
                        last.1 = arms;
                    }
                    arms += 1;
                    out.push(t.clone());
                }
                _ => out.push(t.clone()),
            }
            i += 1;
        }
        out.into_iter().collect()
    }

    /// Recognises `name!(..)`, `pyro::name!(..)` and `::pyro::name!(..)` at `toks[i]` (not when
    /// `name` is the last segment of another path).
    fn site_macro(
        &self,
        toks: &[TokenTree],
        i: usize,
        out: &[TokenTree],
    ) -> Option<(usize, Ident, Group)> {
        let after_sep = out.len() >= 2 && {
            let n = out.len();
            is_path_sep(&out[n - 2..], 0)
        };
        let at = |j: usize| -> Option<(Ident, Group)> {
            match (toks.get(j), toks.get(j + 1), toks.get(j + 2)) {
                (
                    Some(TokenTree::Ident(id)),
                    Some(TokenTree::Punct(bang)),
                    Some(TokenTree::Group(g)),
                ) if bang.as_char() == '!' && MACROS.iter().any(|m| id == m) => {
                    Some((id.clone(), g.clone()))
                }
                _ => None,
            }
        };
        if !after_sep {
            if let Some((id, g)) = at(i) {
                return Some((3, id, g));
            }
            if is_ident(toks.get(i), "pyro") && is_path_sep(toks, i + 1) {
                if let Some((id, g)) = at(i + 3) {
                    return Some((6, id, g));
                }
            }
        }
        if is_path_sep(toks, i) && is_ident(toks.get(i + 2), "pyro") && is_path_sep(toks, i + 3) {
            if let Some((id, g)) = at(i + 5) {
                return Some((8, id, g));
            }
        }
        None
    }

    fn expand(&mut self, name: &Ident, group: Group) -> TokenStream {
        let args = split_args(group.stream());
        let span = name.span();
        match name.to_string().as_str() {
            "sample" => self.sample(span, args),
            "param" => self.param(span, args),
            "factor" => self.factor_like(span, args, SiteKind::Factor),
            "deterministic" => self.factor_like(span, args, SiteKind::Deterministic),
            "call" => self.call(span, args),
            "plate" => self.plate(span, args),
            "markov" => self.markov(span, args),
            _ => unreachable!("not a site macro"),
        }
    }

    /// Records a site name: literal (with its branch), or dynamic.
    fn site_name(&mut self, kind: SiteKind, name: &TokenStream, observed: bool, enumerate: bool) {
        match literal_name(name) {
            Some(lit) => self.sites.push(Site {
                kind,
                name: lit,
                observed,
                enumerate,
                branches: self.branches.clone(),
            }),
            None if kind == SiteKind::Param => {}
            None => self.dynamic = true,
        }
    }

    /// What a site macro with a wrong argument count becomes: its arguments are still evaluated
    /// (so that their variables count as used: no follow-on warnings), then a dummy tensor.
    fn placeholder_tensor(&mut self, span: Span, args: Vec<MacroArg>) -> TokenStream {
        let values: Vec<TokenStream> = args
            .into_iter()
            .map(|a| match a {
                MacroArg::Positional(t) | MacroArg::Keyword(_, t) => self.rewrite(t, false),
            })
            .collect();
        quote_spanned!(span=> { let _ = (#(#values,)*); ::pyro::__private::Tensor::scalar(0.0) })
    }

    /// Splits off `n` positional arguments (then come keywords and flags); reports a wrong count.
    fn positional(
        &mut self,
        span: Span,
        args: &mut Vec<MacroArg>,
        n: usize,
        usage: &str,
    ) -> Option<Vec<TokenStream>> {
        let count = args
            .iter()
            .take_while(|a| matches!(a, MacroArg::Positional(_)))
            .count();
        if count < n {
            let at = args.get(count).map(|a| a.span()).unwrap_or(span);
            self.error(at, format!("too few arguments: expected {usage}"));
            return None;
        }
        let rest = args.split_off(n);
        let pos = std::mem::replace(args, rest);
        Some(
            pos.into_iter()
                .map(|a| match a {
                    MacroArg::Positional(t) => t,
                    MacroArg::Keyword(..) => unreachable!("counted positional"),
                })
                .collect(),
        )
    }

    /// `let _ = (values of rejected arguments);`: keeps the rest of the function free of
    /// follow-on warnings once the error is reported.
    fn ignored(&mut self, ignored: Vec<TokenStream>) -> TokenStream {
        if ignored.is_empty() {
            return TokenStream::new();
        }
        let values: Vec<TokenStream> = ignored
            .into_iter()
            .map(|t| self.rewrite(t, false))
            .collect();
        quote!(let _ = (#(#values,)*);)
    }

    fn sample(&mut self, span: Span, mut args: Vec<MacroArg>) -> TokenStream {
        const USAGE: &str =
            "`sample!(name, distribution)`, optionally followed by `obs = value` or `enumerate`";
        let Some(pos) = self.positional(span, &mut args, 2, USAGE) else {
            return self.placeholder_tensor(span, args);
        };
        let mut obs: Option<TokenStream> = None;
        let mut enumerate = false;
        let mut ignored = Vec::new();
        for a in args {
            match a {
                MacroArg::Keyword(k, v) if k == "obs" => {
                    if self.is_guide {
                        self.error(
                            k.span(),
                            format!(
                                "`obs =` is not allowed in guide `{}`: a guide samples latent sites, only the model observes data",
                                self.fn_name
                            ),
                        );
                        ignored.push(v);
                    } else if obs.is_some() {
                        self.error(k.span(), "`obs` is given twice");
                        ignored.push(v);
                    } else {
                        obs = Some(v);
                    }
                }
                MacroArg::Positional(t) if is_single_ident(&t, "enumerate") => {
                    enumerate = true;
                }
                MacroArg::Keyword(k, v) => {
                    self.error(
                        k.span(),
                        format!("unknown argument `{k}` of `sample!`: expected `obs = value` or `enumerate`"),
                    );
                    ignored.push(v);
                }
                MacroArg::Positional(t) => {
                    self.error(
                        first_span(&t),
                        format!("too many arguments: expected {USAGE}"),
                    );
                    ignored.push(t);
                }
            }
        }
        if enumerate && obs.is_some() {
            self.error(
                span,
                "an observed site cannot be enumerated: `obs` and `enumerate` exclude each other",
            );
            enumerate = false;
        }
        let (name, dist) = (&pos[0], &pos[1]);
        self.site_name(SiteKind::Sample, name, obs.is_some(), enumerate);
        let name = site_name_expr(self.rewrite(name.clone(), false));
        let dist_span = first_span(dist);
        let dist = self.rewrite(dist.clone(), false);
        // An enumerated site needs a discrete distribution: checked by type, spanned on it.
        let dist = if enumerate {
            quote_spanned!(dist_span=> ::pyro::__private::discrete(#dist))
        } else {
            dist
        };
        let obs = obs.map(|o| self.rewrite(o, false));
        let ignored = self.ignored(ignored);
        let ctx = self.ctx_at(span);
        let obs = match obs {
            Some(o) => {
                quote_spanned!(span=> ::core::option::Option::Some(::pyro::__private::to_tensor(#o)))
            }
            None => quote_spanned!(span=> ::core::option::Option::None),
        };
        // Arguments are evaluated before the call: they may contain site macros themselves
        // (`sample!("z", Normal::new(param!("loc", 0.0), 1.0))`), which borrow the context.
        let (n, d, o) = (hidden("name"), hidden("dist"), hidden("obs"));
        let call = if enumerate {
            quote_spanned!(span=> #ctx.sample_with(#n, #d, #o, ::pyro::__private::enumerated()))
        } else {
            quote_spanned!(span=> #ctx.sample(#n, #d, #o))
        };
        quote_spanned!(span=> { #ignored let #n = #name; let #d = #dist; let #o = #obs; #call })
    }

    fn param(&mut self, span: Span, mut args: Vec<MacroArg>) -> TokenStream {
        const USAGE: &str =
            "`param!(name, initial_value)`, optionally followed by `constraint = ...`";
        let Some(pos) = self.positional(span, &mut args, 2, USAGE) else {
            return self.placeholder_tensor(span, args);
        };
        let mut constraint: Option<TokenStream> = None;
        let mut ignored = Vec::new();
        for a in args {
            match a {
                MacroArg::Keyword(k, v) if k == "constraint" => {
                    if constraint.is_some() {
                        self.error(k.span(), "`constraint` is given twice");
                        ignored.push(v);
                    } else {
                        constraint = Some(v);
                    }
                }
                MacroArg::Keyword(k, v) => {
                    self.error(
                        k.span(),
                        format!("unknown argument `{k}` of `param!`: expected `constraint = ...`"),
                    );
                    // `constrain = positive`: the value may be a bare constraint name.
                    ignored.push(constraint_expr(v));
                }
                MacroArg::Positional(t) => {
                    self.error(
                        first_span(&t),
                        format!("too many arguments: expected {USAGE}"),
                    );
                    ignored.push(t);
                }
            }
        }
        let (name, init) = (&pos[0], &pos[1]);
        self.site_name(SiteKind::Param, name, false, false);
        let name = site_name_expr(self.rewrite(name.clone(), false));
        let init = self.rewrite(init.clone(), false);
        let constraint = match constraint {
            None => quote_spanned!(span=> ::pyro::__private::constraint_names::real()),
            Some(c) => constraint_expr(self.rewrite(c, false)),
        };
        let ignored = self.ignored(ignored);
        let ctx = self.ctx_at(span);
        let (n, c) = (hidden("name"), hidden("constraint"));
        quote_spanned!(span=> { #ignored let #n = #name; let #c = #constraint; #ctx.param(#n, || #init, #c) })
    }

    fn factor_like(&mut self, span: Span, mut args: Vec<MacroArg>, kind: SiteKind) -> TokenStream {
        let (mac, what, method) = match kind {
            SiteKind::Factor => ("factor", "log_density", quote!(factor)),
            _ => ("deterministic", "value", quote!(deterministic)),
        };
        let usage = format!("`{mac}!(name, {what})`");
        let Some(pos) = self.positional(span, &mut args, 2, &usage) else {
            return self.placeholder_tensor(span, args);
        };
        let mut ignored = Vec::new();
        for a in args {
            match a {
                MacroArg::Keyword(k, v) => {
                    self.error(
                        k.span(),
                        format!("unknown argument `{k}` of `{mac}!`: expected {usage}"),
                    );
                    ignored.push(v);
                }
                MacroArg::Positional(t) => {
                    self.error(
                        first_span(&t),
                        format!("too many arguments: expected {usage}"),
                    );
                    ignored.push(t);
                }
            }
        }
        self.site_name(kind, &pos[0], true, false);
        let name = self.rewrite(pos[0].clone(), false);
        let value = self.rewrite(pos[1].clone(), false);
        let ignored = self.ignored(ignored);
        let ctx = self.ctx_at(span);
        let (n, v) = (hidden("name"), hidden("value"));
        quote_spanned!(span=> {
            #ignored
            let #n = #name;
            let #v = ::pyro::__private::to_tensor(#value);
            #ctx.#method(#n, #v)
        })
    }

    fn call(&mut self, span: Span, args: Vec<MacroArg>) -> TokenStream {
        self.has_call = true;
        let mut it = args.into_iter();
        let model = match it.next() {
            Some(MacroArg::Positional(m)) => self.rewrite(m, false),
            Some(MacroArg::Keyword(k, _)) => {
                self.error(
                    k.span(),
                    "expected `call!(model, arguments...)`: the first argument is the model to run",
                );
                return quote!(());
            }
            None => {
                self.error(span, "expected `call!(model, arguments...)`");
                return quote!(());
            }
        };
        let mut call_args = Vec::new();
        for a in it {
            match a {
                MacroArg::Positional(t) => call_args.push(self.rewrite(t, false)),
                MacroArg::Keyword(k, v) => {
                    // `x = y` is an assignment expression, not a keyword: keep it.
                    let v = self.rewrite(v, false);
                    call_args.push(quote!(#k = #v));
                }
            }
        }
        let args = match call_args.len() {
            1 => call_args.pop().expect("one argument"),
            _ => quote!((#(#call_args,)*)),
        };
        let ctx = self.ctx_at(span);
        let a = hidden("args");
        quote_spanned!(span=> { let #a = #args; ::pyro::__private::Model::call(&#model, #ctx, #a) })
    }

    /// `markov!([history = h,] for PAT in ITER { body })`: a loop whose steps depend on the last
    /// `h` (default 1) steps only, so that enumeration can sum out what the loop has left behind.
    fn markov(&mut self, span: Span, args: Vec<MacroArg>) -> TokenStream {
        const USAGE: &str = "`markov!(for t in steps { ... })`, optionally `markov!(history = h, for t in steps { ... })`";
        let mut history = None;
        let mut body = None;
        for a in args {
            match a {
                MacroArg::Keyword(k, v) if k == "history" && history.is_none() => history = Some(v),
                MacroArg::Positional(t) if body.is_none() && starts_with_for(&t) => body = Some(t),
                MacroArg::Keyword(k, _) => {
                    self.error(
                        k.span(),
                        format!("unknown argument `{k}` of `markov!`: expected {USAGE}"),
                    );
                    return quote!(());
                }
                MacroArg::Positional(t) => {
                    self.error(
                        first_span(&t),
                        format!("unexpected argument of `markov!`: expected {USAGE}"),
                    );
                    return quote!(());
                }
            }
        }
        let Some(body) = body else {
            self.error(span, format!("incomplete `markov!`: expected {USAGE}"));
            return quote!(());
        };
        let mut toks: Vec<TokenTree> = body.into_iter().collect();
        let block = match toks.pop() {
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
            _ => {
                self.error(span, format!("malformed `markov!` loop: expected {USAGE}"));
                return quote!(());
            }
        };
        let Some(pos_in) = toks.iter().position(|t| is_ident(Some(t), "in")) else {
            self.error(span, format!("malformed `markov!` loop: expected {USAGE}"));
            return quote!(());
        };
        let pat: TokenStream = toks[1..pos_in].iter().cloned().collect();
        let iter: TokenStream = toks[pos_in + 1..].iter().cloned().collect();
        let iter = self.rewrite(iter, false);
        let history = match history {
            Some(h) => self.rewrite(h, false),
            None => quote!(1),
        };
        let block = regroup(&block, self.rewrite(block.stream(), false));
        let ctx = self.ctx_at(span);
        quote_spanned! {span=>
            #ctx.markov_with_history(#history, #iter, |#ctx, #pat| #block)
        }
    }

    fn plate(&mut self, span: Span, args: Vec<MacroArg>) -> TokenStream {
        const USAGE: &str = "`plate!(name, size, |idx| { ... })` or `plate!(name, size, for i { ... })`, with optional `subsample_size = k` and `dim = -d` before the body";
        self.has_plate = true;
        let mut name = None;
        let mut size = None;
        let mut subsample = None;
        let mut dim: Option<(Span, TokenStream)> = None;
        let mut body = None;
        let mut ignored = Vec::new();
        let n_args = args.len();
        for (i, a) in args.into_iter().enumerate() {
            match a {
                MacroArg::Positional(t) if i + 1 == n_args && starts_body(&t) => body = Some(t),
                MacroArg::Positional(t) if name.is_none() => name = Some(t),
                MacroArg::Positional(t) if size.is_none() => size = Some(t),
                MacroArg::Keyword(k, v) if k == "size" && size.is_none() => size = Some(v),
                MacroArg::Keyword(k, v) if k == "subsample_size" && subsample.is_none() => {
                    subsample = Some(v)
                }
                MacroArg::Keyword(k, v) if k == "dim" && dim.is_none() => dim = Some((k.span(), v)),
                MacroArg::Keyword(k, v) => {
                    let msg = if ["size", "subsample_size", "dim"].iter().any(|s| k == s) {
                        format!("`{k}` is given twice")
                    } else {
                        format!("unknown argument `{k}` of `plate!`: expected `subsample_size = k` or `dim = -d`")
                    };
                    self.error(k.span(), msg);
                    ignored.push(v);
                }
                MacroArg::Positional(t) => {
                    self.error(
                        first_span(&t),
                        format!("unexpected argument of `plate!`: expected {USAGE}"),
                    );
                    ignored.push(t);
                }
            }
        }
        let (Some(name), Some(size), Some(body)) = (name.clone(), size.clone(), body) else {
            self.error(span, format!("incomplete `plate!`: expected {USAGE}"));
            ignored.extend(name);
            ignored.extend(size);
            let ignored = self.ignored(ignored);
            return quote!({ #ignored });
        };
        let name = self.rewrite(name, false);
        let size = self.rewrite(size, false);
        let subsample = match subsample {
            Some(s) => {
                let s = self.rewrite(s, false);
                quote_spanned!(span=> ::core::option::Option::Some(#s))
            }
            None => quote_spanned!(span=> ::core::option::Option::None),
        };
        let ctx = self.ctx_at(span);
        let mut body: Vec<TokenTree> = body.into_iter().collect();
        if is_ident(body.first(), "for") {
            // Sequential: `for PAT { body }`.
            if let Some((dspan, d)) = dim.take() {
                self.error(dspan, "a sequential plate (`for i { ... }`) has no `dim`");
                ignored.push(d);
            }
            let block = match body.pop() {
                Some(TokenTree::Group(g))
                    if g.delimiter() == Delimiter::Brace && body.len() >= 2 =>
                {
                    g
                }
                _ => {
                    self.error(span, format!("malformed sequential plate body: expected `for i {{ ... }}` (in {USAGE})"));
                    return quote!(());
                }
            };
            let pat: TokenStream = body[1..].iter().cloned().collect();
            let block = regroup(&block, self.rewrite(block.stream(), false));
            let ignored = self.ignored(ignored);
            let n = Ident::new("__pyro_plate_name", Span::mixed_site());
            let s = Ident::new("__pyro_plate_size", Span::mixed_site());
            let idx = Ident::new("__pyro_plate_idx", Span::mixed_site());
            return quote_spanned! {span=> {
                #ignored
                let #n: ::pyro::__private::SiteName = ::core::convert::Into::into(#name);
                let #s: usize = #size;
                let #idx = #ctx.sequential_indices(::core::clone::Clone::clone(&#n), #s, #subsample);
                for #pat in #idx.iter().copied() {
                    #ctx.enter_sequential(&#n, #s, #idx.len());
                    #block
                }
                #ctx.exit_sequential(&#n);
            }};
        }
        // Vectorised: `[move] |pat| body` or `[move] || body`.
        let mut k = 0;
        let mv = if is_ident(body.first(), "move") {
            k = 1;
            quote!(move)
        } else {
            quote!()
        };
        let (pat, rest): (TokenStream, &[TokenTree]) = match body.get(k) {
            Some(TokenTree::Punct(p))
                if p.as_char() == '|'
                    && p.spacing() == proc_macro2::Spacing::Joint
                    && is_punct(body.get(k + 1), '|') =>
            {
                (quote!(_), &body[k + 2..])
            }
            Some(TokenTree::Punct(p)) if p.as_char() == '|' => {
                match body[k + 1..].iter().position(|t| is_punct(Some(t), '|')) {
                    Some(end) => {
                        let pat: Vec<TokenTree> = body[k + 1..k + 1 + end].to_vec();
                        if pat.iter().any(|t| is_punct(Some(t), ',')) {
                            self.error(first_span(&pat.iter().cloned().collect()), "the closure of `plate!` takes one argument: the indices in use (`&[usize]`)");
                            return quote!(());
                        }
                        (pat.into_iter().collect(), &body[k + 2 + end..])
                    }
                    None => {
                        self.error(
                            span,
                            format!("malformed `plate!` closure: expected {USAGE}"),
                        );
                        return quote!(());
                    }
                }
            }
            _ => {
                self.error(span, format!("malformed `plate!` body: expected {USAGE}"));
                return quote!(());
            }
        };
        if rest.is_empty() {
            self.error(
                span,
                format!("the closure of `plate!` has no body: expected {USAGE}"),
            );
            return quote!(());
        }
        let inner = self.rewrite(rest.iter().cloned().collect(), false);
        let ignored = self.ignored(ignored);
        let dim = match dim {
            Some((_, d)) => {
                let d = self.rewrite(d, false);
                quote_spanned!(span=> ::core::option::Option::Some(#d))
            }
            None => quote_spanned!(span=> ::core::option::Option::None),
        };
        let inner_ctx = self.ctx_at(span);
        let (n, s, o) = (hidden("name"), hidden("size"), hidden("opts"));
        quote_spanned! {span=> {
            #ignored
            let #n = #name;
            let #s: usize = #size;
            let #o = ::pyro::__private::PlateOpts { subsample_size: #subsample, dim: #dim };
            #ctx.plate(#n, #s, #o, #mv |#inner_ctx: &mut ::pyro::__private::Context, #pat| #inner)
        }}
    }
}

/// A site name written as `format!(...)` becomes `SiteName::from_args(format_args!(...))`: the
/// same text, formatted straight into the name's inline buffer instead of a fresh `String` every
/// time the model runs. Any other name expression is left as it is.
fn site_name_expr(name: TokenStream) -> TokenStream {
    let toks: Vec<TokenTree> = name.clone().into_iter().collect();
    match toks.as_slice() {
        [TokenTree::Ident(f), TokenTree::Punct(bang), TokenTree::Group(g)]
            if f == "format" && bang.as_char() == '!' =>
        {
            let span = f.span();
            let args = g.stream();
            quote_spanned!(span=> ::pyro::__private::SiteName::from_args(::core::format_args!(#args)))
        }
        _ => name,
    }
}

/// A local of the generated code, invisible to user code.
fn hidden(name: &str) -> Ident {
    Ident::new(&format!("__pyro_{name}"), Span::mixed_site())
}

fn regroup(g: &Group, inner: TokenStream) -> TokenTree {
    let mut new = Group::new(g.delimiter(), inner);
    new.set_span(g.span());
    TokenTree::Group(new)
}

fn is_single_ident(t: &TokenStream, s: &str) -> bool {
    let toks: Vec<TokenTree> = t.clone().into_iter().collect();
    toks.len() == 1 && is_ident(toks.first(), s)
}

fn starts_with_for(t: &TokenStream) -> bool {
    t.clone()
        .into_iter()
        .next()
        .is_some_and(|tt| matches!(&tt, TokenTree::Ident(i) if i == "for"))
}

fn starts_body(t: &TokenStream) -> bool {
    let first = t.clone().into_iter().next();
    is_punct(first.as_ref(), '|')
        || is_ident(first.as_ref(), "move")
        || is_ident(first.as_ref(), "for")
}

/// The constraint names that may be written bare (`constraint = positive`).
const NULLARY_CONSTRAINTS: &[&str] = &[
    "real",
    "real_vector",
    "positive",
    "unit_interval",
    "simplex",
    "lower_cholesky",
    "boolean",
    "nonnegative_integer",
];

/// `positive` becomes `constraint_names::positive()`; anything else (`interval(0.0, 1.0)`, a
/// variable, a path) is evaluated with the constraint names in scope.
fn constraint_expr(c: TokenStream) -> TokenStream {
    let toks: Vec<TokenTree> = c.clone().into_iter().collect();
    if let [TokenTree::Ident(id)] = toks.as_slice() {
        if NULLARY_CONSTRAINTS.iter().any(|n| id == n) {
            return quote_spanned!(id.span()=> ::pyro::__private::constraint_names::#id());
        }
    }
    let span = first_span(&c);
    quote_spanned! {span=> {
        #[allow(unused_imports)]
        use ::pyro::__private::constraint_names::*;
        #c
    }}
}
