//! Which site macro an invocation is, and whether it is this crate's at all (`sample!`,
//! `pyro::sample!`, `p::sample!` after `use pyro as p`, but not a `macro_rules! call` of the
//! body's own).

use proc_macro2::{TokenStream, TokenTree};
use syn::Path;

/// The site macros of the model language.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    Sample,
    Param,
    Factor,
    Deterministic,
    Call,
    Plate,
    Markov,
    Module,
}

impl Kind {
    pub fn from_name(s: &str) -> Option<Kind> {
        Some(match s {
            "sample" => Kind::Sample,
            "param" => Kind::Param,
            "factor" => Kind::Factor,
            "deterministic" => Kind::Deterministic,
            "call" => Kind::Call,
            "plate" => Kind::Plate,
            "markov" => Kind::Markov,
            "module" => Kind::Module,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Kind::Sample => "sample",
            Kind::Param => "param",
            Kind::Factor => "factor",
            Kind::Deterministic => "deterministic",
            Kind::Call => "call",
            Kind::Plate => "plate",
            Kind::Markov => "markov",
            Kind::Module => "module",
        }
    }

    pub fn usage(self) -> &'static str {
        match self {
            Kind::Sample => "`sample!(name, distribution)`, optionally followed by `obs = value` or `enumerate`",
            Kind::Param => "`param!(name, initial_value)`, optionally followed by `constraint = ...`",
            Kind::Factor => "`factor!(name, log_density)`",
            Kind::Deterministic => "`deterministic!(name, value)`",
            Kind::Call => "`call!(model, arguments...)`",
            Kind::Plate => "`plate!(name, size, |idx| { ... })` or `plate!(name, size, for i { ... })`, with optional `subsample_size = k` and `dim = -d` before the body",
            Kind::Markov => "`markov!(for t in steps { ... })`, optionally `markov!(history = h, for t in steps { ... })`",
            Kind::Module => "`module!(name, &network)`",
        }
    }
}

/// Whether `s` is the name of a site macro.
pub fn is_site_name(s: &str) -> bool {
    Kind::from_name(s).is_some()
}

/// Which macros are this crate's: `sample!` (through the prelude), `pyro::sample!`,
/// `::pyro::sample!`, `p::sample!` after `use pyro as p`, the `crate = path` of the attribute,
/// and `.. ::prelude::sample!`. A bare name that the body itself defines with `macro_rules!`,
/// and paths through `crate`, `self`, `super` or longer paths, are someone else's.
pub fn recognise(path: &Path, krate: &TokenStream, local_macros: &[String]) -> Option<Kind> {
    let segs: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    let kind = Kind::from_name(segs.last()?)?;
    if path.segments.iter().any(|s| !s.arguments.is_none()) {
        return None;
    }
    let prefix = &segs[..segs.len() - 1];
    let krate_segs: Vec<String> = krate
        .clone()
        .into_iter()
        .filter_map(|t| match t {
            TokenTree::Ident(i) => Some(i.to_string()),
            _ => None,
        })
        .collect();
    let prefix = prefix
        .strip_suffix(&["prelude".to_string()])
        .unwrap_or(prefix);
    let ours = match prefix {
        [] => path.leading_colon.is_none() && !local_macros.iter().any(|m| *m == segs[0]),
        [p] => !["crate", "self", "super", "std", "core", "alloc"].contains(&p.as_str()),
        other => other == krate_segs.as_slice(),
    };
    ours.then_some(kind)
}

/// The diverging macros of the standard library: the path ends there.
pub fn diverges(path: &Path) -> bool {
    path.segments.last().is_some_and(|s| {
        ["panic", "unreachable", "todo", "unimplemented"]
            .iter()
            .any(|m| s.ident == m)
    })
}
