//! Unit tests of the pure parts: argument splitting, type normalisation, site collection with
//! branches, and the duplicate check.

use quote::quote;

use crate::check::duplicates;
use crate::parse::{literal_name, normalised_type, split_args, MacroArg};
use crate::rewrite::Rewriter;

#[test]
fn split_args_separates_positional_keywords_and_closure_bodies() {
    let args = split_args(quote!("x", Normal::new(a, b), obs = x == y, enumerate));
    assert_eq!(args.len(), 4);
    assert!(matches!(&args[2], MacroArg::Keyword(k, _) if k == "obs"));
    assert!(matches!(&args[3], MacroArg::Positional(_)));
    // A closure takes the rest, commas included.
    let args = split_args(quote!("p", n, |idx| { f(a, b) },));
    assert_eq!(args.len(), 3);
    // `==` and `=>` are not keywords.
    let args = split_args(quote!(a == b));
    assert!(matches!(&args[0], MacroArg::Positional(_)));
}

#[test]
fn types_compare_by_last_path_segment_without_whitespace() {
    assert_eq!(
        normalised_type(quote!(&'__pyro_a [crate::data::Row])),
        normalised_type(quote!(&'__pyro_a [Row]))
    );
    assert_ne!(
        normalised_type(quote!(&[f32])),
        normalised_type(quote!(&[f64]))
    );
    assert_ne!(
        normalised_type(quote!(dyn Fn())),
        normalised_type(quote!(dynFn()))
    );
}

#[test]
fn literal_names_are_recognised() {
    assert_eq!(literal_name(&quote!("z")).unwrap().value(), "z");
    assert!(literal_name(&quote!(format!("x_{i}"))).is_none());
    assert!(literal_name(&quote!(name)).is_none());
}

fn sites_of(body: proc_macro2::TokenStream, guide: bool) -> Rewriter {
    let mut rw = Rewriter::new("f".into(), guide);
    rw.rewrite(body, false);
    rw
}

#[test]
fn sites_in_exclusive_branches_are_not_duplicates() {
    let rw = sites_of(
        quote!({
            if a {
                sample!("z", d)
            } else if b {
                sample!("z", d)
            } else {
                sample!("z", d)
            }
            match k {
                0 => sample!("y", d, obs = 1.0),
                _ => {
                    sample!("y", d, obs = 2.0)
                }
            }
            let p = param!("p", 0.0);
            let q = param!("p", 0.0);
        }),
        false,
    );
    assert_eq!(rw.sites.len(), 7);
    assert!(duplicates(&rw.sites, "f").is_empty());
    assert!(!rw.dynamic && !rw.has_call);
}

#[test]
fn repeated_sites_on_one_path_are_duplicates() {
    let rw = sites_of(
        quote!({
            if a {
                sample!("z", d);
            }
            sample!("z", d);
            let v = vec![sample!(format!("x{i}"), d)];
            let w = call!(other, v);
        }),
        false,
    );
    assert_eq!(duplicates(&rw.sites, "f").len(), 1);
    assert!(rw.dynamic && rw.has_call);
}

#[test]
fn site_macros_are_found_inside_other_macros_and_with_paths() {
    let rw = sites_of(
        quote!({
            println!("{:?}", pyro::sample!("a", d));
            ::pyro::param!("b", 1.0);
            other::sample!("not_ours", d);
        }),
        false,
    );
    let names: Vec<String> = rw.sites.iter().map(|s| s.name.value()).collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn obs_in_a_guide_is_an_error() {
    let rw = sites_of(
        quote!({
            sample!("z", d, obs = 1.0);
        }),
        true,
    );
    assert_eq!(rw.errors.len(), 1);
    assert!(rw.errors[0]
        .to_string()
        .contains("not allowed in guide `f`"));
}
