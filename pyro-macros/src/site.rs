//! The site macros as typed views: which invocations are this crate's, and their arguments
//! parsed with syn (`sample!(name, dist, obs = value)`, `plate!(name, size, |idx| body)`, ...).
//! Every misuse is an error spanned on the offending argument.

use proc_macro2::{Delimiter, Span, TokenStream, TokenTree};
use syn::parse::{ParseStream, Parser};
use syn::{Block, Expr, ExprClosure, ExprForLoop, Ident, Pat, Token};

use crate::ctxt::Errors;
use crate::kind::Kind;

/// One argument of a site macro.
enum Arg {
    Positional(Expr),
    /// `key = value` (the value missing after `key =`).
    Keyword(Ident, Option<Expr>),
    /// `for PAT { BLOCK }`: the body of a sequential plate.
    ForBody(Pat, Box<Block>, Span),
}

/// The body of a `plate!`.
pub enum PlateBody {
    Vectorised(Box<ExprClosure>),
    Sequential { pat: Pat, block: Box<Block> },
}

/// A site macro, parsed (short-lived, and boxed in [`Parsed`]: the size of its variants does
/// not matter).
#[allow(clippy::large_enum_variant)]
pub enum Site {
    Sample {
        name: Expr,
        dist: Expr,
        obs: Option<Expr>,
        enumerate: bool,
    },
    Param {
        name: Expr,
        init: Expr,
        constraint: Option<Expr>,
    },
    /// `factor!` or `deterministic!`.
    Value {
        name: Expr,
        value: Expr,
    },
    Call {
        model: Expr,
        args: Vec<Expr>,
    },
    Plate {
        name: Expr,
        size: Expr,
        subsample: Option<Expr>,
        dim: Option<Expr>,
        body: PlateBody,
    },
    Markov {
        history: Option<Expr>,
        looped: Box<ExprForLoop>,
    },
    /// `module!(name, network)`.
    Module {
        name: Expr,
        module: Expr,
    },
}

/// The result of parsing: the site, or (after an error) the expressions that could be read, to
/// be evaluated anyway so that their variables count as used.
pub enum Parsed {
    Site(Box<Site>),
    Broken(Vec<Expr>),
}

fn parse_args(kind: Kind, input: ParseStream) -> syn::Result<Vec<Arg>> {
    let mut args = Vec::new();
    while !input.is_empty() {
        if input.peek(syn::Ident)
            && input.peek2(Token![=])
            && !input.peek2(Token![==])
            && !input.peek2(Token![=>])
            && kind != Kind::Call
        {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let value = if input.is_empty() || input.peek(Token![,]) {
                None
            } else {
                Some(input.parse()?)
            };
            args.push(Arg::Keyword(key, value));
        } else if input.peek(Token![for]) && kind == Kind::Plate {
            let for_token: Token![for] = input.parse()?;
            let rest: TokenStream = input.parse()?;
            args.push(sequential_body(for_token.span, rest)?);
            break;
        } else {
            args.push(Arg::Positional(input.parse()?));
        }
        if input.is_empty() {
            break;
        }
        input.parse::<Token![,]>()?;
    }
    Ok(args)
}

/// `PAT { BLOCK } [,]` after `for` in a sequential plate.
fn sequential_body(span: Span, rest: TokenStream) -> syn::Result<Arg> {
    let mut toks: Vec<TokenTree> = rest.into_iter().collect();
    if matches!(toks.last(), Some(TokenTree::Punct(p)) if p.as_char() == ',') {
        toks.pop();
    }
    let malformed = || {
        syn::Error::new(
            span,
            "malformed sequential plate body: expected `for i { ... }`",
        )
    };
    let block = match toks.pop() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace && !toks.is_empty() => g,
        _ => return Err(malformed()),
    };
    let pat = Pat::parse_single.parse2(toks.into_iter().collect())?;
    let block: Block = syn::parse2(TokenTree::Group(block).into())?;
    Ok(Arg::ForBody(pat, Box::new(block), span))
}

/// Parses the arguments of a site macro of kind `kind` invoked at `span`. `is_guide`: `obs =`
/// is an error in a guide.
pub fn parse(
    kind: Kind,
    tokens: TokenStream,
    span: Span,
    fn_name: &str,
    is_guide: bool,
    errors: &mut Errors,
) -> Parsed {
    let args = match (|input: ParseStream| parse_args(kind, input)).parse2(tokens) {
        Ok(a) => a,
        Err(e) => {
            errors.push(e);
            return Parsed::Broken(Vec::new());
        }
    };
    let n_before = errors_len(errors);
    let mut cx = Args {
        kind,
        span,
        args: args.into_iter().collect(),
        errors,
        used: Vec::new(),
    };
    let site = match kind {
        Kind::Sample => cx.sample(fn_name, is_guide),
        Kind::Param => cx.param(),
        Kind::Factor | Kind::Deterministic => cx.value(),
        Kind::Call => cx.call(),
        Kind::Plate => cx.plate(),
        Kind::Markov => cx.markov(),
        Kind::Module => cx.module(),
    };
    let Args { used, errors, .. } = cx;
    match site {
        Some(site) if errors_len(errors) == n_before => Parsed::Site(Box::new(site)),
        _ => Parsed::Broken(used),
    }
}

fn errors_len(errors: &Errors) -> usize {
    errors.len()
}

/// The arguments of one invocation, consumed as they are understood.
struct Args<'e> {
    kind: Kind,
    span: Span,
    args: std::collections::VecDeque<Arg>,
    errors: &'e mut Errors,
    /// Every expression read, for the placeholder after an error.
    used: Vec<Expr>,
}

impl Args<'_> {
    /// The next `n` positional arguments.
    fn positional(&mut self, n: usize) -> Option<Vec<Expr>> {
        let mut out = Vec::new();
        while out.len() < n {
            match self.args.front() {
                Some(Arg::Positional(_)) => {
                    if let Some(Arg::Positional(e)) = self.args.pop_front() {
                        self.used.push(e.clone());
                        out.push(e);
                    }
                }
                other => {
                    let at = match other {
                        Some(Arg::Keyword(k, _)) => k.span(),
                        Some(Arg::ForBody(_, _, s)) => *s,
                        _ => self.span,
                    };
                    self.errors.at(
                        at,
                        format!("too few arguments: expected {}", self.kind.usage()),
                    );
                    self.drain();
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Reads what is left (after an error), keeping the expressions.
    fn drain(&mut self) {
        for a in self.args.drain(..) {
            match a {
                // A closure's parameter types could not be inferred in the placeholder.
                Arg::Positional(Expr::Closure(_)) => {}
                Arg::Positional(e) | Arg::Keyword(_, Some(e)) => self.used.push(e),
                Arg::Keyword(_, None) | Arg::ForBody(..) => {}
            }
        }
    }

    /// A keyword's value, or an error when it has none.
    fn value_of(&mut self, key: &Ident, value: Option<Expr>) -> Option<Expr> {
        match value {
            Some(v) => {
                self.used.push(v.clone());
                Some(v)
            }
            None => {
                self.errors.at(
                    key.span(),
                    format!("`{key} =` needs a value (`{key} = ...`)"),
                );
                None
            }
        }
    }

    fn unexpected(&mut self, a: Arg, expected: &str) {
        match a {
            Arg::Keyword(k, v) => {
                if let Some(v) = v {
                    self.used.push(v);
                }
                let mac = self.kind.name();
                self.errors.at(
                    k.span(),
                    format!("unknown argument `{k}` of `{mac}!`: expected {expected}"),
                );
            }
            Arg::Positional(e) => {
                // A bare identifier where `sample!` takes flags: an unknown flag.
                match single_ident(&e).filter(|_| self.kind == Kind::Sample) {
                    Some(flag) => {
                        let hint = if similar(&flag.to_string(), "enumerate") {
                            " (did you mean `enumerate`?)"
                        } else {
                            ""
                        };
                        self.errors.at(
                            flag.span(),
                            format!(
                                "unknown argument `{flag}` of `sample!`: expected {expected}{hint}"
                            ),
                        );
                    }
                    None => self.errors.spanned(
                        &e,
                        format!("too many arguments: expected {}", self.kind.usage()),
                    ),
                }
                self.used.push(e);
            }
            Arg::ForBody(_, _, span) => {
                self.errors.at(
                    span,
                    format!("unexpected argument: expected {}", self.kind.usage()),
                );
            }
        }
    }

    fn sample(&mut self, fn_name: &str, is_guide: bool) -> Option<Site> {
        let pos = self.positional(2)?;
        let [name, dist]: [Expr; 2] = pos.try_into().ok()?;
        let mut obs: Option<Expr> = None;
        let mut obs_key: Option<Ident> = None;
        let mut enumerate: Option<Ident> = None;
        let expected = "`obs = value` or `enumerate`";
        while let Some(a) = self.args.pop_front() {
            match a {
                Arg::Keyword(k, v) if k == "obs" => {
                    let v = self.value_of(&k, v);
                    if is_guide {
                        self.errors.at(
                            k.span(),
                            format!("`obs =` is not allowed in guide `{fn_name}`: a guide samples latent sites, only the model observes data"),
                        );
                    } else if obs_key.is_some() {
                        self.errors.at(k.span(), "`obs` is given twice");
                    } else {
                        obs = v;
                        obs_key = Some(k);
                    }
                }
                Arg::Positional(e) if single_ident(&e).is_some_and(|i| i == "enumerate") => {
                    let flag = single_ident(&e).cloned();
                    if enumerate.is_some() {
                        self.errors.spanned(&e, "`enumerate` is given twice");
                    }
                    enumerate = flag;
                }
                other => self.unexpected(other, expected),
            }
        }
        if let (Some(flag), Some(_)) = (&enumerate, &obs_key) {
            self.errors.at(
                flag.span(),
                "an observed site cannot be enumerated: `obs` and `enumerate` exclude each other",
            );
        }
        Some(Site::Sample {
            name,
            dist,
            obs,
            enumerate: enumerate.is_some(),
        })
    }

    fn param(&mut self) -> Option<Site> {
        let pos = self.positional(2)?;
        let [name, init]: [Expr; 2] = pos.try_into().ok()?;
        let mut constraint = None;
        let mut seen = false;
        while let Some(a) = self.args.pop_front() {
            match a {
                Arg::Keyword(k, v) if k == "constraint" => {
                    let v = self.value_of(&k, v);
                    if seen {
                        self.errors.at(k.span(), "`constraint` is given twice");
                    }
                    seen = true;
                    constraint = v;
                }
                other => self.unexpected(other, "`constraint = ...`"),
            }
        }
        Some(Site::Param {
            name,
            init,
            constraint,
        })
    }

    fn value(&mut self) -> Option<Site> {
        let pos = self.positional(2)?;
        let [name, value]: [Expr; 2] = pos.try_into().ok()?;
        let usage = self.kind.usage();
        while let Some(a) = self.args.pop_front() {
            self.unexpected(a, usage);
        }
        Some(Site::Value { name, value })
    }

    fn module(&mut self) -> Option<Site> {
        let pos = self.positional(2)?;
        let [name, module]: [Expr; 2] = pos.try_into().ok()?;
        let usage = self.kind.usage();
        while let Some(a) = self.args.pop_front() {
            self.unexpected(a, usage);
        }
        Some(Site::Module { name, module })
    }

    fn call(&mut self) -> Option<Site> {
        let mut model = None;
        let mut args = Vec::new();
        while let Some(a) = self.args.pop_front() {
            match a {
                Arg::Positional(e) => {
                    self.used.push(e.clone());
                    if model.is_none() {
                        model = Some(e);
                    } else {
                        args.push(e);
                    }
                }
                other => self.unexpected(other, "arguments of the model"),
            }
        }
        let Some(model) = model else {
            self.errors.at(
                self.span,
                format!("too few arguments: expected {}", self.kind.usage()),
            );
            return None;
        };
        Some(Site::Call { model, args })
    }

    fn plate(&mut self) -> Option<Site> {
        let pos = self.positional(2)?;
        let [name, size]: [Expr; 2] = pos.try_into().ok()?;
        let mut subsample = None;
        let mut dim: Option<(Ident, Expr)> = None;
        let mut body = None;
        let mut seen: Vec<String> = Vec::new();
        while let Some(a) = self.args.pop_front() {
            match a {
                Arg::Keyword(k, v) if k == "subsample_size" || k == "dim" => {
                    let v = self.value_of(&k, v);
                    if body.is_some() {
                        self.errors.at(
                            k.span(),
                            format!("`{k}` must come before the body of `plate!`"),
                        );
                    }
                    if seen.contains(&k.to_string()) {
                        self.errors.at(k.span(), format!("`{k}` is given twice"));
                    }
                    seen.push(k.to_string());
                    match (k == "dim", v) {
                        (true, Some(v)) => dim = Some((k, v)),
                        (false, Some(v)) => subsample = Some(v),
                        (_, None) => {}
                    }
                }
                Arg::Positional(Expr::Closure(c)) if body.is_none() => {
                    if c.inputs.len() > 1 {
                        self.errors.spanned(
                            &c.inputs,
                            "the closure of `plate!` takes one argument: the indices in use (`&[usize]`)",
                        );
                    }
                    if c.asyncness.is_some() || c.constness.is_some() {
                        self.errors
                            .spanned(&c, "the closure of `plate!` cannot be `async` or `const`");
                    }
                    body = Some(PlateBody::Vectorised(Box::new(c)));
                }
                Arg::ForBody(pat, block, _) if body.is_none() => {
                    body = Some(PlateBody::Sequential { pat, block });
                }
                other => self.unexpected(other, "`subsample_size = k` or `dim = -d`"),
            }
        }
        let Some(body) = body else {
            self.errors.at(
                self.span,
                format!("incomplete `plate!`: expected {}", self.kind.usage()),
            );
            return None;
        };
        if let (PlateBody::Sequential { .. }, Some((k, _))) = (&body, &dim) {
            self.errors.at(
                k.span(),
                "a sequential plate (`for i { ... }`) has no `dim`",
            );
        }
        Some(Site::Plate {
            name,
            size,
            subsample,
            dim: dim.map(|(_, d)| d),
            body,
        })
    }

    fn markov(&mut self) -> Option<Site> {
        let mut history = None;
        let mut looped = None;
        while let Some(a) = self.args.pop_front() {
            match a {
                Arg::Keyword(k, v) if k == "history" && history.is_none() && looped.is_none() => {
                    history = self.value_of(&k, v);
                }
                Arg::Positional(Expr::ForLoop(f)) if looped.is_none() => looped = Some(f),
                Arg::Keyword(k, v) if looped.is_none() => {
                    if let Some(v) = v {
                        self.used.push(v);
                    }
                    self.errors.at(
                        k.span(),
                        format!(
                            "unknown argument `{k}` of `markov!`: expected {}",
                            self.kind.usage()
                        ),
                    );
                    self.drain();
                    return None;
                }
                other => {
                    // Anything else: one error, at the first argument that is not understood.
                    let message = if looped.is_some() {
                        format!(
                            "unexpected argument after the loop of `markov!`: expected {}",
                            self.kind.usage()
                        )
                    } else {
                        format!("expected {}", self.kind.usage())
                    };
                    let error = match &other {
                        Arg::Positional(e) => syn::Error::new_spanned(e, message),
                        Arg::Keyword(k, _) => syn::Error::new(k.span(), message),
                        Arg::ForBody(_, _, s) => syn::Error::new(*s, message),
                    };
                    self.errors.push(error);
                    self.args.push_front(other);
                    self.drain();
                    return None;
                }
            }
        }
        let Some(looped) = looped else {
            self.errors.at(
                self.span,
                format!("incomplete `markov!`: expected {}", self.kind.usage()),
            );
            return None;
        };
        if let Some(label) = &looped.label {
            self.errors.spanned(
                label,
                "a `markov!` loop cannot have a label: its body is a closure",
            );
        }
        Some(Site::Markov {
            history,
            looped: Box::new(looped),
        })
    }
}

/// The identifier an expression is, if it is exactly one.
fn single_ident(e: &Expr) -> Option<&Ident> {
    match e {
        Expr::Path(p) if p.qself.is_none() && p.attrs.is_empty() => p.path.get_ident(),
        _ => None,
    }
}

/// Whether `a` is a near miss of `b` (one or two edits), for a suggestion.
fn similar(a: &str, b: &str) -> bool {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != cb);
            cur.push(sub.min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()] <= 2 && a != b
}
