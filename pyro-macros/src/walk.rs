//! The walk over a parsed body (syn's `VisitMut`): it rewrites each of this crate's site macros
//! into a call on the hidden context, and records on the way what the checks and the
//! description need: every site (its name as far as it is known, its role, the `#[cfg]`s it is
//! under, its point in the control flow) and every `call!`ed sub-model.
//!
//! Site macros are found wherever expressions are: in branches, loops, closures, the bodies of
//! `plate!` and `markov!`, and the arguments of other macros (`println!("{:?}", sample!(..))`).
//! Nested items (`fn`, `mod`, ...) are not entered: they are not part of this function.

use proc_macro2::{Ident, Span, TokenStream};
use quote::{quote, ToTokens};
use syn::visit_mut::{self, VisitMut};
use syn::{Attribute, Block, Expr, Item, Macro, Path, Stmt, Token};

use crate::ctxt::Errors;
use crate::emit::Emit;
use crate::flow::{Flow, Node};
use crate::kind::{self, Kind};
use crate::name::{classify, Name};
use crate::scope::Scopes;
use crate::site::{self, Parsed, PlateBody, Site};

/// What a site is, for the description and the checks.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Role {
    Latent,
    Enumerated,
    Observed,
    Factor,
    Deterministic,
    Param,
}

impl Role {
    /// The variant of `SiteRole` (none for parameters, which are not sites of the description).
    pub fn site_role(self) -> Option<&'static str> {
        Some(match self {
            Role::Latent => "Latent",
            Role::Enumerated => "Enumerated",
            Role::Observed => "Observed",
            Role::Factor => "Factor",
            Role::Deterministic => "Deterministic",
            Role::Param => return None,
        })
    }
}

/// A site of the body.
pub struct SiteRecord {
    pub role: Role,
    pub name: Name,
    /// The name as written, for spans.
    pub name_tokens: TokenStream,
    /// The predicates of the `#[cfg]`s the site is under.
    pub cfgs: Vec<TokenStream>,
    pub node: Node,
}

/// A `call!` of a sub-model.
pub struct CallRecord {
    /// The sub-model, when it is named by a path the description can refer to.
    pub model: Option<Path>,
    /// The model as written, for spans.
    pub tokens: TokenStream,
    pub cfgs: Vec<TokenStream>,
}

pub enum Entry {
    Site(SiteRecord),
    Call(CallRecord),
}

pub struct Walker<'a> {
    pub emit: Emit<'a>,
    pub fn_name: String,
    pub is_guide: bool,
    pub errors: &'a mut Errors,
    pub flow: Flow,
    pub entries: Vec<Entry>,
    pub scopes: Scopes,
    /// `#[cfg]` predicates around the current point.
    cfgs: Vec<TokenStream>,
    /// Names defined by `macro_rules!` in the body: not this crate's macros.
    local_macros: Vec<String>,
    /// Whether a site macro could not be read (then the description is not trusted).
    pub broken: bool,
    /// Whether the rewritten body uses the context.
    pub uses_context: bool,
}

impl<'a> Walker<'a> {
    pub fn new(emit: Emit<'a>, fn_name: String, is_guide: bool, errors: &'a mut Errors) -> Self {
        Walker {
            emit,
            fn_name,
            is_guide,
            errors,
            flow: Flow::default(),
            entries: Vec::new(),
            scopes: Scopes::default(),
            cfgs: Vec::new(),
            local_macros: Vec::new(),
            broken: false,
            uses_context: false,
        }
    }

    /// Pushes the predicates of the `#[cfg]`s among `attrs`; returns how many.
    fn push_cfgs(&mut self, attrs: &[Attribute]) -> usize {
        let mut n = 0;
        for a in attrs {
            if a.path().is_ident("cfg") {
                if let syn::Meta::List(l) = &a.meta {
                    self.cfgs.push(l.tokens.clone());
                    n += 1;
                }
            }
        }
        n
    }

    fn pop_cfgs(&mut self, n: usize) {
        self.cfgs.truncate(self.cfgs.len() - n);
    }

    pub(crate) fn recognise(&self, path: &Path) -> Option<Kind> {
        kind::recognise(path, self.emit.krate, &self.local_macros)
    }

    /// Records a site at the current point.
    fn record(&mut self, role: Role, name: &Expr) {
        let node = self.flow.node();
        let record = SiteRecord {
            role,
            name: classify(name, &self.scopes),
            name_tokens: name.to_token_stream(),
            cfgs: self.cfgs.clone(),
            node,
        };
        self.entries.push(Entry::Site(record));
    }

    /// The sub-model a `call!` names, when the description can refer to it: a path (a unit
    /// struct, a `const`) that is not a local, and not this model itself (a recursive model's
    /// sites are its own).
    fn sub_model(&self, model: &Expr) -> Option<Path> {
        let model = match model {
            Expr::Reference(r) => &*r.expr,
            Expr::Group(g) => &*g.expr,
            Expr::Paren(p) => &*p.expr,
            m => m,
        };
        let Expr::Path(p) = model else { return None };
        if p.qself.is_some() || p.path.segments.iter().any(|s| !s.arguments.is_none()) {
            return None;
        }
        let last = p.path.segments.last()?.ident.to_string();
        if p.path.segments.len() == 1 && self.scopes.is_local(&last) {
            return None;
        }
        let segs = &p.path.segments;
        let itself = last == self.fn_name
            && (segs.len() == 1 || (segs.len() == 2 && segs[0].ident == "self"));
        if itself {
            return None;
        }
        Some(p.path.clone())
    }

    /// Rewrites one site macro; returns the code it becomes.
    pub(crate) fn site(&mut self, kind: Kind, mac: &Macro) -> TokenStream {
        let span = mac
            .path
            .segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span());
        let parsed = site::parse(
            kind,
            mac.tokens.clone(),
            span,
            &self.fn_name,
            self.is_guide,
            self.errors,
        );
        let site = match parsed {
            Parsed::Site(s) => {
                self.uses_context = true;
                s
            }
            Parsed::Broken(mut exprs) => {
                self.broken = true;
                for e in &mut exprs {
                    self.visit_expr_mut(e);
                }
                let tensor_valued = matches!(
                    kind,
                    Kind::Sample | Kind::Param | Kind::Factor | Kind::Deterministic
                );
                return self.emit.placeholder(span, &exprs, tensor_valued);
            }
        };
        match *site {
            Site::Sample {
                mut name,
                mut dist,
                mut obs,
                enumerate,
            } => {
                self.visit_expr_mut(&mut name);
                self.visit_expr_mut(&mut dist);
                if let Some(o) = &mut obs {
                    self.visit_expr_mut(o);
                }
                let role = match (&obs, enumerate) {
                    (Some(_), _) => Role::Observed,
                    (None, true) => Role::Enumerated,
                    (None, false) => Role::Latent,
                };
                self.record(role, &name);
                self.emit
                    .sample(span, &name, &dist, obs.as_ref(), enumerate)
            }
            Site::Param {
                mut name,
                mut init,
                mut constraint,
            } => {
                self.visit_expr_mut(&mut name);
                self.visit_expr_mut(&mut init);
                if let Some(c) = &mut constraint {
                    self.visit_expr_mut(c);
                }
                self.record(Role::Param, &name);
                let constraint = constraint.map(|c| self.emit.constraint(&c, &self.scopes));
                self.emit.param(span, &name, &init, constraint)
            }
            Site::Value {
                mut name,
                mut value,
            } => {
                self.visit_expr_mut(&mut name);
                self.visit_expr_mut(&mut value);
                let role = if kind == Kind::Factor {
                    Role::Factor
                } else {
                    Role::Deterministic
                };
                self.record(role, &name);
                self.emit.value(span, kind, &name, &value)
            }
            Site::Call {
                mut model,
                mut args,
            } => {
                self.visit_expr_mut(&mut model);
                for a in &mut args {
                    self.visit_expr_mut(a);
                }
                let record = CallRecord {
                    model: self.sub_model(&model),
                    tokens: model.to_token_stream(),
                    cfgs: self.cfgs.clone(),
                };
                self.entries.push(Entry::Call(record));
                self.emit.call(span, &model, &args)
            }
            Site::Plate {
                mut name,
                mut size,
                mut subsample,
                mut dim,
                body,
            } => {
                self.visit_expr_mut(&mut name);
                self.visit_expr_mut(&mut size);
                if let Some(s) = &mut subsample {
                    self.visit_expr_mut(s);
                }
                if let Some(d) = &mut dim {
                    self.visit_expr_mut(d);
                }
                match body {
                    PlateBody::Vectorised(mut c) => {
                        // The closure runs once, here: `return` leaves the plate.
                        let loops = self.flow.inline_begin();
                        self.scopes.push();
                        for input in &c.inputs {
                            self.scopes.bind_pat(input);
                        }
                        self.visit_expr_mut(&mut c.body);
                        self.scopes.pop();
                        self.flow.inline_end(loops);
                        self.emit
                            .plate(span, &name, &size, subsample.as_ref(), dim.as_ref(), &c)
                    }
                    PlateBody::Sequential { pat, mut block } => {
                        let head = self.flow.loop_begin(None);
                        self.scopes.push();
                        self.scopes.bind_pat(&pat);
                        self.visit_block_mut(&mut block);
                        self.scopes.pop();
                        self.flow.loop_end(vec![head]);
                        self.emit.sequential_plate(
                            span,
                            &name,
                            &size,
                            subsample.as_ref(),
                            &pat,
                            &block,
                        )
                    }
                }
            }
            Site::Markov {
                mut history,
                mut looped,
            } => {
                if let Some(h) = &mut history {
                    self.visit_expr_mut(h);
                }
                self.visit_expr_mut(&mut looped.expr);
                let saved = self.flow.closure_loop_begin();
                self.scopes.push();
                self.scopes.bind_pat(&looped.pat);
                self.visit_block_mut(&mut looped.body);
                self.scopes.pop();
                self.flow.closure_loop_end(saved);
                self.emit.markov(span, history.as_ref(), &looped)
            }
            Site::Module {
                mut name,
                mut module,
            } => {
                // Not a site of the description: its parameters are named `name.*`, and, like
                // `param!`, binding the same network twice reads the same parameters.
                self.visit_expr_mut(&mut name);
                self.visit_expr_mut(&mut module);
                self.emit.module(span, &name, &module)
            }
        }
    }

    /// The condition of an `if`/`while`: its `let` patterns bind in the branch (the caller
    /// pushes the scope).
    fn visit_condition(&mut self, cond: &mut Expr) {
        match cond {
            Expr::Let(l) => {
                self.visit_expr_mut(&mut l.expr);
                self.scopes.bind_pat(&l.pat);
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_)) => {
                self.visit_condition(&mut b.left);
                self.visit_condition(&mut b.right);
            }
            Expr::Paren(p) => self.visit_condition(&mut p.expr),
            other => self.visit_expr_mut(other),
        }
    }

    /// A statement that is a macro invocation.
    fn macro_stmt(&mut self, stmt: &mut Stmt, is_last: bool) {
        let Stmt::Macro(m) = stmt else { return };
        let n = self.push_cfgs(&m.attrs);
        if let Some(kind) = self.recognise(&m.mac.path) {
            let code = self.site(kind, &m.mac);
            let attrs = &m.attrs;
            // A statement keeps its `#[cfg]`s and ends with `;` unless it is the block's value.
            let semi = match (m.semi_token, is_last) {
                (Some(s), _) => Some(s),
                (None, true) => None,
                (None, false) => Some(Token![;](Span::call_site())),
            };
            *stmt = Stmt::Expr(Expr::Verbatim(quote!(#(#attrs)* #code)), semi);
        } else if kind::diverges(&m.mac.path) {
            self.flow.diverge();
        } else {
            self.foreign(&mut m.mac);
        }
        self.pop_cfgs(n);
    }
}

impl VisitMut for Walker<'_> {
    fn visit_block_mut(&mut self, b: &mut Block) {
        self.scopes.push();
        self.scopes.bind_items(&b.stmts);
        let macros = self.local_macros.len();
        for s in &b.stmts {
            if let Stmt::Item(Item::Macro(m)) = s {
                if let (true, Some(id)) = (m.mac.path.is_ident("macro_rules"), &m.ident) {
                    self.local_macros.push(id.to_string());
                }
            }
        }
        let n = b.stmts.len();
        for (i, s) in b.stmts.iter_mut().enumerate() {
            if matches!(s, Stmt::Macro(_)) {
                self.macro_stmt(s, i + 1 == n);
            } else {
                self.visit_stmt_mut(s);
            }
        }
        self.local_macros.truncate(macros);
        self.scopes.pop();
    }

    fn visit_stmt_mut(&mut self, s: &mut Stmt) {
        match s {
            Stmt::Local(l) => {
                let n = self.push_cfgs(&l.attrs);
                if let Some(init) = &mut l.init {
                    self.visit_expr_mut(&mut init.expr);
                    if let Some((_, diverge)) = &mut init.diverge {
                        // `let .. else { .. }`: the `else` block leaves the path.
                        let after = self.flow.save();
                        self.visit_expr_mut(diverge);
                        self.flow.set(after);
                    }
                }
                self.scopes.bind_pat(&l.pat);
                self.pop_cfgs(n);
            }
            // Nested items are not part of this function.
            Stmt::Item(_) => {}
            Stmt::Expr(e, _) => self.visit_expr_mut(e),
            Stmt::Macro(_) => self.macro_stmt(s, false),
        }
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        let n = self.push_cfgs(expr_attrs(e));
        match e {
            Expr::Macro(m) => {
                if let Some(kind) = self.recognise(&m.mac.path) {
                    let code = self.site(kind, &m.mac);
                    let attrs = &m.attrs;
                    *e = Expr::Verbatim(quote!(#(#attrs)* #code));
                } else if kind::diverges(&m.mac.path) {
                    self.flow.diverge();
                } else {
                    self.foreign(&mut m.mac);
                }
            }
            Expr::If(i) => {
                self.scopes.push();
                self.visit_condition(&mut i.cond);
                let after_cond = self.flow.save();
                self.visit_block_mut(&mut i.then_branch);
                self.scopes.pop();
                let after_then = self.flow.save();
                self.flow.set(after_cond);
                if let Some((_, else_branch)) = &mut i.else_branch {
                    self.visit_expr_mut(else_branch);
                }
                self.flow.join(after_then);
            }
            Expr::Match(m) => {
                self.visit_expr_mut(&mut m.expr);
                let start = self.flow.save();
                let mut ends = Vec::new();
                for arm in &mut m.arms {
                    self.flow.set(start.clone());
                    self.scopes.push();
                    self.scopes.bind_pat(&arm.pat);
                    if let syn::Pat::Guard(g) = &mut arm.pat {
                        self.visit_expr_mut(&mut g.guard);
                    }
                    self.visit_expr_mut(&mut arm.body);
                    self.scopes.pop();
                    ends.extend(self.flow.save());
                }
                if m.arms.is_empty() {
                    ends = Vec::new();
                }
                self.flow.set(ends);
            }
            Expr::Loop(l) => {
                self.flow.loop_begin(label(&l.label));
                self.visit_block_mut(&mut l.body);
                self.flow.loop_end(Vec::new());
            }
            Expr::While(w) => {
                self.flow.loop_begin(label(&w.label));
                self.scopes.push();
                self.visit_condition(&mut w.cond);
                let exit = self.flow.save();
                self.visit_block_mut(&mut w.body);
                self.scopes.pop();
                self.flow.loop_end(exit);
            }
            Expr::ForLoop(f) => {
                self.visit_expr_mut(&mut f.expr);
                let head = self.flow.loop_begin(label(&f.label));
                self.scopes.push();
                self.scopes.bind_pat(&f.pat);
                self.visit_block_mut(&mut f.body);
                self.scopes.pop();
                self.flow.loop_end(vec![head]);
            }
            Expr::Closure(c) => {
                let saved = self.flow.region_begin();
                self.scopes.push();
                for input in &c.inputs {
                    self.scopes.bind_pat(input);
                }
                self.visit_expr_mut(&mut c.body);
                self.scopes.pop();
                self.flow.region_end(saved);
            }
            Expr::Async(a) => {
                let saved = self.flow.region_begin();
                self.visit_block_mut(&mut a.block);
                self.flow.region_end(saved);
            }
            Expr::Return(r) => {
                if let Some(v) = &mut r.expr {
                    self.visit_expr_mut(v);
                }
                self.flow.return_();
            }
            Expr::Break(b) => {
                if let Some(v) = &mut b.expr {
                    self.visit_expr_mut(v);
                }
                let l = b.label.as_ref().map(|l| l.ident.to_string());
                self.flow.break_(l.as_deref());
            }
            Expr::Continue(c) => {
                let l = c.label.as_ref().map(|l| l.ident.to_string());
                self.flow.continue_(l.as_deref());
            }
            Expr::Binary(b) if matches!(b.op, syn::BinOp::And(_) | syn::BinOp::Or(_)) => {
                self.visit_expr_mut(&mut b.left);
                let short = self.flow.save();
                self.visit_expr_mut(&mut b.right);
                self.flow.join(short);
            }
            Expr::Block(b) if b.label.is_some() => {
                let l = b.label.as_ref().map(|l| l.name.ident.to_string());
                self.flow.block_begin(l.unwrap_or_default());
                self.visit_block_mut(&mut b.block);
                self.flow.block_end();
            }
            Expr::Let(l) => {
                self.visit_expr_mut(&mut l.expr);
                self.scopes.bind_pat(&l.pat);
            }
            // A const block is evaluated at compile time: no sites.
            Expr::Const(_) => {}
            other => visit_mut::visit_expr_mut(self, other),
        }
        self.pop_cfgs(n);
    }
}

fn label(l: &Option<syn::Label>) -> Option<String> {
    l.as_ref().map(|l| l.name.ident.to_string())
}

/// The attributes of an expression (`#[cfg]` on array elements, statements, ...).
fn expr_attrs(e: &Expr) -> &[Attribute] {
    match e {
        Expr::Array(x) => &x.attrs,
        Expr::Assign(x) => &x.attrs,
        Expr::Async(x) => &x.attrs,
        Expr::Await(x) => &x.attrs,
        Expr::Binary(x) => &x.attrs,
        Expr::Block(x) => &x.attrs,
        Expr::Break(x) => &x.attrs,
        Expr::Call(x) => &x.attrs,
        Expr::Cast(x) => &x.attrs,
        Expr::Closure(x) => &x.attrs,
        Expr::Continue(x) => &x.attrs,
        Expr::Field(x) => &x.attrs,
        Expr::ForLoop(x) => &x.attrs,
        Expr::Group(x) => &x.attrs,
        Expr::If(x) => &x.attrs,
        Expr::Index(x) => &x.attrs,
        Expr::Let(x) => &x.attrs,
        Expr::Lit(x) => &x.attrs,
        Expr::Loop(x) => &x.attrs,
        Expr::Macro(x) => &x.attrs,
        Expr::Match(x) => &x.attrs,
        Expr::MethodCall(x) => &x.attrs,
        Expr::Paren(x) => &x.attrs,
        Expr::Path(x) => &x.attrs,
        Expr::Range(x) => &x.attrs,
        Expr::Reference(x) => &x.attrs,
        Expr::Repeat(x) => &x.attrs,
        Expr::Return(x) => &x.attrs,
        Expr::Struct(x) => &x.attrs,
        Expr::Try(x) => &x.attrs,
        Expr::TryBlock(x) => &x.attrs,
        Expr::Tuple(x) => &x.attrs,
        Expr::Unary(x) => &x.attrs,
        Expr::Unsafe(x) => &x.attrs,
        Expr::While(x) => &x.attrs,
        Expr::Yield(x) => &x.attrs,
        _ => &[],
    }
}

/// The hidden context's identifier: mixed-site hygiene, so user code can neither see nor shadow
/// it; a readable name, since a borrow error may name it.
pub fn context_ident() -> Ident {
    Ident::new("model_context", Span::mixed_site())
}
