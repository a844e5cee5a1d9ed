//! The checks the macro makes on its own, where one function holds all the facts: a fixed site
//! name that two sites on one path share, and a fixed site name in a loop (Pyro's commonest
//! beginner bug: every iteration samples the same name again).

use crate::ctxt::Errors;
use crate::flow::Flow;
use crate::name::Name;
use crate::walk::{Entry, Role, SiteRecord};

fn shown(s: &SiteRecord) -> String {
    match &s.name {
        Name::Literal(v) => format!("{v:?}"),
        Name::Const { key, .. } => format!("`{key}`"),
        Name::Prefix(p) => format!("{p:?}"),
    }
}

pub fn check(entries: &[Entry], flow: &Flow, fn_name: &str, errors: &mut Errors) {
    let sites: Vec<&SiteRecord> = entries
        .iter()
        .filter_map(|e| match e {
            Entry::Site(s) => Some(s),
            Entry::Call(_) => None,
        })
        .collect();
    let mut in_loop = vec![false; sites.len()];
    for (i, s) in sites.iter().enumerate() {
        if s.role == Role::Param || s.name.key().is_none() || !flow.reaches(s.node, s.node) {
            continue;
        }
        in_loop[i] = true;
        let verb = match s.role {
            Role::Factor | Role::Deterministic => "recorded",
            _ => "sampled",
        };
        let stem = s.name.stem();
        let message = format!(
            "site {} is {verb} in a loop in `{fn_name}`, so every iteration would use the same name: site names must be unique within a run\n\
             help: give each iteration its own name (`format!(\"{stem}_{{i}}\")`), or vectorise the loop with `plate!`",
            shown(s)
        );
        errors.push_under(syn::Error::new_spanned(&s.name_tokens, message), &s.cfgs);
    }
    for (j, b) in sites.iter().enumerate() {
        let Some(key) = b.name.key() else { continue };
        if in_loop[j] {
            continue;
        }
        let first = sites[..j].iter().enumerate().find(|(i, a)| {
            !in_loop[*i]
                && a.name.key().as_ref() == Some(&key)
                && !(a.role == Role::Param && b.role == Role::Param)
                && (flow.reaches(a.node, b.node) || flow.reaches(b.node, a.node))
        });
        if let Some((_, a)) = first {
            let message = format!(
                "site {} is used twice in `{fn_name}`: site names must be unique within a run (only different branches of an `if`/`match` may repeat one)",
                shown(b)
            );
            let mut cfgs = a.cfgs.clone();
            cfgs.extend(b.cfgs.iter().cloned());
            errors.push_under(syn::Error::new_spanned(&b.name_tokens, message), &cfgs);
        }
    }
}
