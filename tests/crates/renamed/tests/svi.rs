//! The models of a crate that renames its `pyro` dependency run, and describe themselves.

use pp::infer::description::{NamePattern, SiteDesc, SiteRole};
use pp::prelude::*;
use renamed::{coin, coin_guide, everything};

#[test]
fn a_model_of_a_renamed_dependency_runs_under_svi() {
    let data = [1.0, 1.0, 0.0];
    let adam = Adam::new(AdamConfig::default());
    let mut svi = Svi::new(coin, coin_guide, adam, TraceElbo::default()).seed(0);
    for _ in 0..3 {
        assert!(svi.step(&data[..]).unwrap().is_finite());
    }
    assert!(svi.params().scalar("alpha_q").is_ok());
    let mut ctx = Context::new(0);
    let d = everything.call(&mut ctx, &data[..]);
    assert!(ctx.take_error().is_none());
    assert_eq!(d.shape(), &[] as &[usize]);
}

#[test]
fn the_description_lists_the_sites_with_their_roles() {
    let sites: Vec<(NamePattern, SiteRole)> = <coin as Model>::SITES
        .iter()
        .filter_map(|s| match *s {
            SiteDesc::Site { name, role } => Some((name, role)),
            SiteDesc::Call { .. } => None,
        })
        .collect();
    assert_eq!(
        sites,
        [
            (NamePattern::Exact("latent_fairness"), SiteRole::Latent),
            (NamePattern::Prefix("obs_"), SiteRole::Observed),
        ]
    );
    let roles: Vec<SiteRole> = <everything as Model>::SITES
        .iter()
        .filter_map(|s| match *s {
            SiteDesc::Site { role, .. } => Some(role),
            SiteDesc::Call { .. } => None,
        })
        .collect();
    assert_eq!(
        roles,
        [
            SiteRole::Latent,
            SiteRole::Enumerated,
            SiteRole::Observed,
            SiteRole::Observed,
            SiteRole::Observed,
            SiteRole::Factor,
            SiteRole::Deterministic,
        ]
    );
    assert!(<everything as Model>::SITES
        .iter()
        .any(|s| matches!(s, SiteDesc::Call { model: "coin", .. })));
}
