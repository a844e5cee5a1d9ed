//! Unit tests of the pure parts: name classification, recognising this crate's macros, and the
//! control-flow checks (duplicates on one path, literal names in loops) on parsed bodies.

use proc_macro2::TokenStream;
use quote::quote;
use syn::visit_mut::VisitMut;

use crate::ctxt::Errors;
use crate::emit::Emit;
use crate::kind::{recognise, Kind};
use crate::name::{classify, format_prefix, Name};
use crate::scope::Scopes;
use crate::walk::{context_ident, Entry, Walker};

#[test]
fn format_strings_give_their_literal_prefix() {
    assert_eq!(format_prefix("x_{i}"), ("x_".to_string(), true));
    assert_eq!(format_prefix("{}"), (String::new(), true));
    assert_eq!(format_prefix("a{{b}}c"), ("a{b}c".to_string(), false));
    assert_eq!(format_prefix("a{{{i}"), ("a{".to_string(), true));
}

fn name_of(expr: TokenStream, locals: &[&str]) -> Name {
    let mut scopes = Scopes::default();
    scopes.push();
    for l in locals {
        scopes.bind((*l).to_string());
    }
    classify(&syn::parse2(expr).unwrap(), &scopes)
}

#[test]
fn names_are_classified_by_what_is_known_at_compile_time() {
    assert!(matches!(name_of(quote!("z"), &[]), Name::Literal(s) if s == "z"));
    assert!(
        matches!(name_of(quote!(concat!("a", 1, "_", true)), &[]), Name::Literal(s) if s == "a1_true")
    );
    assert!(matches!(name_of(quote!("z".to_string()), &[]), Name::Literal(s) if s == "z"));
    assert!(matches!(name_of(quote!(String::from("z")), &[]), Name::Literal(s) if s == "z"));
    assert!(matches!(name_of(quote!(format!("z")), &[]), Name::Literal(s) if s == "z"));
    assert!(matches!(name_of(quote!(format!("x_{i}")), &[]), Name::Prefix(p) if p == "x_"));
    assert!(matches!(name_of(quote!(format!("{}_x", a)), &[]), Name::Prefix(p) if p.is_empty()));
    // A path is a constant unless a local of that name exists.
    assert!(matches!(name_of(quote!(NAME), &[]), Name::Const { .. }));
    assert!(matches!(
        name_of(quote!(names::Z), &["names"]),
        Name::Const { .. }
    ));
    assert!(matches!(name_of(quote!(name), &["name"]), Name::Prefix(p) if p.is_empty()));
    assert!(matches!(
        name_of(quote!(concat!(PREFIX, "x")), &[]),
        Name::Const { .. }
    ));
    assert!(matches!(name_of(quote!(name.clone()), &[]), Name::Prefix(p) if p.is_empty()));
}

#[test]
fn only_this_crates_macros_are_recognised() {
    let ours = |p: TokenStream, krate: TokenStream, local: &[&str]| {
        let local: Vec<String> = local.iter().map(|s| (*s).to_string()).collect();
        recognise(&syn::parse2(p).unwrap(), &krate, &local)
    };
    assert_eq!(
        ours(quote!(sample), quote!(::pyro), &[]),
        Some(Kind::Sample)
    );
    assert_eq!(
        ours(quote!(pyro::param), quote!(::pyro), &[]),
        Some(Kind::Param)
    );
    assert_eq!(
        ours(quote!(::pyro::plate), quote!(::pyro), &[]),
        Some(Kind::Plate)
    );
    assert_eq!(
        ours(quote!(p::sample), quote!(::pyro), &[]),
        Some(Kind::Sample)
    );
    assert_eq!(
        ours(quote!(pyro::prelude::call), quote!(::pyro), &[]),
        Some(Kind::Call)
    );
    assert_eq!(
        ours(quote!(pp::inner::sample), quote!(pp::inner), &[]),
        Some(Kind::Sample)
    );
    assert_eq!(ours(quote!(crate::call), quote!(::pyro), &[]), None);
    assert_eq!(ours(quote!(self::sample), quote!(::pyro), &[]), None);
    assert_eq!(ours(quote!(a::b::sample), quote!(::pyro), &[]), None);
    assert_eq!(ours(quote!(call), quote!(::pyro), &["call"]), None);
    assert_eq!(ours(quote!(println), quote!(::pyro), &[]), None);
}

/// The errors of the macro's own checks on a body (`guide`: whether it is a guide).
fn check(body: TokenStream, guide: bool) -> Vec<String> {
    let mut block: syn::Block = syn::parse2(body).unwrap();
    let krate = quote!(::pyro);
    let mut errors = Errors::default();
    let emit = Emit {
        krate: &krate,
        ctx: context_ident(),
    };
    let mut w = Walker::new(emit, "f".to_string(), guide, &mut errors);
    w.visit_block_mut(&mut block);
    let (entries, flow) = (std::mem::take(&mut w.entries), std::mem::take(&mut w.flow));
    crate::valid::check(&entries, &flow, "f", &mut errors);
    let out = errors.to_compile_errors().to_string();
    out.split("compile_error")
        .skip(1)
        .map(|s| s.to_string())
        .collect()
}

#[test]
fn alternatives_and_ended_paths_are_not_duplicates() {
    let errors = check(
        quote!({
            if a {
                sample!("z", d);
            } else if let Some(P { x, .. }) = p {
                sample!("z", d);
            } else {
                sample!("z", d);
            }
            match k {
                0 => sample!("y", d, obs = 1.0),
                1 if c => return,
                _ => {
                    sample!("y", d, obs = 2.0);
                }
            }
            let p = param!("p", 0.0);
            let q = param!("p", 0.0);
            if c {
                sample!("w", d);
                return;
            }
            sample!("w", d);
            let Some(v) = o else {
                sample!("u", d);
                return;
            };
            sample!("u", d);
        }),
        false,
    );
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn a_name_twice_on_one_path_is_a_duplicate() {
    let errors = check(
        quote!({
            if a {
                sample!("z", d);
            }
            sample!("z", d);
            sample!(NAME, d);
            sample!(NAME, d);
            'outer: {
                if c {
                    break 'outer;
                }
                sample!("v", d);
            }
            sample!("v", d);
        }),
        false,
    );
    assert_eq!(errors.len(), 3, "{errors:?}");
    assert!(errors[0].contains("site \\\"z\\\" is used twice in `f`"));
    assert!(errors[1].contains("site `NAME` is used twice"));
}

#[test]
fn a_literal_name_in_a_loop_is_an_error_unless_the_loop_ends_after_it() {
    let errors = check(
        quote!({
            for x in xs {
                sample!("a", d, obs = x);
            }
            while c {
                factor!("b", f);
            }
            loop {
                sample!("c", d);
                if done {
                    break;
                }
            }
            plate!("p", n, for i {
                sample!("d", e);
            });
            markov!(for t in 0..n {
                sample!("e", e);
            });
            loop {
                let z = sample!("ok", d);
                break z;
            }
            for i in 0..n {
                sample!(format!("fine_{i}"), d);
                param!("also_fine", 0.0);
            }
            let f = || sample!("in_closure", d);
            plate!("v", n, |idx| {
                sample!("vectorised", d);
            });
        }),
        false,
    );
    let names: Vec<&str> = ["\"a\"", "\"b\"", "\"c\"", "\"d\"", "\"e\""].to_vec();
    assert_eq!(errors.len(), names.len(), "{errors:?}");
    for (e, n) in errors.iter().zip(names) {
        assert!(
            e.contains(&format!("site \\{}\\\" is", &n[..n.len() - 1])),
            "{e}"
        );
        assert!(e.contains("in a loop in `f`"), "{e}");
        assert!(e.contains("help: give each iteration its own name"), "{e}");
    }
}

#[test]
fn sites_are_found_inside_other_macros_closures_and_site_arguments() {
    let mut block: syn::Block = syn::parse2(quote!({
        println!("{:?}", pyro::sample!("a", d));
        let v = vec![deterministic!("b", x); 2];
        let f = move |x| sample!("c", Normal::new(param!("loc", 0.0), 1.0));
        crate::util::sample!("not_ours", d);
        weird!(call!(m, 1) ; sample!("d", e));
    }))
    .unwrap();
    let krate = quote!(::pyro);
    let mut errors = Errors::default();
    let emit = Emit {
        krate: &krate,
        ctx: context_ident(),
    };
    let mut w = Walker::new(emit, "f".to_string(), false, &mut errors);
    w.visit_block_mut(&mut block);
    let names: Vec<String> = w
        .entries
        .iter()
        .map(|e| match e {
            Entry::Site(s) => match &s.name {
                Name::Literal(n) => n.clone(),
                _ => "?".to_string(),
            },
            Entry::Call(_) => "call".to_string(),
        })
        .collect();
    assert_eq!(names, ["a", "b", "loc", "c", "call", "d"]);
    let code = quote!(#block).to_string();
    // Only the foreign macro is left as a macro.
    assert_eq!(code.matches("sample !").count(), 1, "{code}");
    assert!(code.contains("util :: sample ! (\"not_ours\""), "{code}");
    assert!(errors.is_empty());
}

#[test]
fn obs_in_a_guide_is_an_error() {
    let errors = check(
        quote!({
            sample!("z", d, obs = 1.0);
        }),
        true,
    );
    assert_eq!(errors.len(), 1);
    assert!(errors[0].contains("not allowed in guide `f`"));
}
