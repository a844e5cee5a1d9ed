//! The names bound in the body as the walk reaches each point: function arguments, `let`s,
//! closure, `for`, `match` and `if let` patterns, and items declared in blocks. A local shadows
//! what the macro would otherwise take a name to be (a built-in constraint, a `const` site
//! name, a sub-model's type), as it does in Rust.

use syn::{Item, Pat, Stmt};

/// A stack of scopes, innermost last.
#[derive(Default)]
pub struct Scopes {
    frames: Vec<Vec<String>>,
}

impl Scopes {
    pub fn push(&mut self) {
        self.frames.push(Vec::new());
    }

    pub fn pop(&mut self) {
        self.frames.pop();
    }

    /// Binds `name` in the innermost scope.
    pub fn bind(&mut self, name: String) {
        if self.frames.is_empty() {
            self.push();
        }
        if let Some(f) = self.frames.last_mut() {
            f.push(name);
        }
    }

    /// Binds every identifier `pat` binds.
    pub fn bind_pat(&mut self, pat: &Pat) {
        let mut names = Vec::new();
        bindings(pat, &mut names);
        for n in names {
            self.bind(n);
        }
    }

    /// Binds the items declared among `stmts` (visible in the whole block).
    pub fn bind_items(&mut self, stmts: &[Stmt]) {
        for s in stmts {
            if let Stmt::Item(item) = s {
                if let Some(name) = item_name(item) {
                    self.bind(name);
                }
                if let Item::Use(u) = item {
                    let mut names = Vec::new();
                    use_names(&u.tree, &mut names);
                    for n in names {
                        self.bind(n);
                    }
                }
            }
        }
    }

    /// Whether `name` is bound locally.
    pub fn is_local(&self, name: &str) -> bool {
        self.frames.iter().any(|f| f.iter().any(|n| n == name))
    }
}

/// The identifiers a pattern binds (also unit structs and constants written as bare
/// identifiers, which the macro cannot tell apart from bindings: a harmless over-approximation).
pub fn bindings(pat: &Pat, out: &mut Vec<String>) {
    match pat {
        Pat::Ident(p) => {
            out.push(p.ident.to_string());
            if let Some((_, sub)) = &p.subpat {
                bindings(sub, out);
            }
        }
        Pat::Or(p) => p.cases.iter().for_each(|c| bindings(c, out)),
        Pat::Paren(p) => bindings(&p.pat, out),
        Pat::Reference(p) => bindings(&p.pat, out),
        Pat::Slice(p) => p.elems.iter().for_each(|c| bindings(c, out)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| bindings(&f.pat, out)),
        Pat::Tuple(p) => p.elems.iter().for_each(|c| bindings(c, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|c| bindings(c, out)),
        Pat::Type(p) => bindings(&p.pat, out),
        Pat::Guard(p) => bindings(&p.pat, out),
        _ => {}
    }
}

fn item_name(item: &Item) -> Option<String> {
    let ident = match item {
        Item::Const(i) => &i.ident,
        Item::Enum(i) => &i.ident,
        Item::Fn(i) => &i.sig.ident,
        Item::Mod(i) => &i.ident,
        Item::Static(i) => &i.ident,
        Item::Struct(i) => &i.ident,
        Item::Type(i) => &i.ident,
        Item::Union(i) => &i.ident,
        Item::Trait(i) => &i.ident,
        Item::ExternCrate(i) => i.rename.as_ref().map_or(&i.ident, |(_, r)| r),
        _ => return None,
    };
    Some(ident.to_string())
}

fn use_names(tree: &syn::UseTree, out: &mut Vec<String>) {
    match tree {
        syn::UseTree::Path(p) => use_names(&p.tree, out),
        syn::UseTree::Name(n) => out.push(n.ident.to_string()),
        syn::UseTree::Rename(r) => out.push(r.rename.to_string()),
        syn::UseTree::Group(g) => g.items.iter().for_each(|t| use_names(t, out)),
        syn::UseTree::Glob(_) => {}
    }
}
