//! `pyro::Error` reads the same through `Debug` as through `Display` (what `fn main() ->
//! pyro::Result<()>` prints), and a site error names the function in its own field.

use pyro::prelude::*;

/// The coin model, with a scale read from the data so that the fourth observation is invalid.
#[model]
fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Normal::new(f.clone(), x), obs = 1.0);
    }
}

#[guide(model = coin)]
fn coin_guide(_data: &[f64]) {
    let a = param!("alpha_q", 15.0, constraint = positive);
    let b = param!("beta_q", 15.0, constraint = positive);
    sample!("latent_fairness", Beta::new(a, b));
}

#[test]
fn a_site_error_names_site_and_function_in_separate_fields() {
    let adam = Adam::new(AdamConfig::default());
    let mut svi = Svi::new(coin, coin_guide, adam, TraceElbo::default());
    let err = svi.step(&[1.0, 1.0, 1.0, -1.0][..]).unwrap_err();
    let Error::Site {
        site,
        function,
        source,
    } = &err
    else {
        panic!("expected a site error, got {err}");
    };
    assert_eq!(site, "obs_3");
    assert_eq!(function.as_deref(), Some("coin"));
    assert!(
        matches!(**source, Error::InvalidParameter { param: "scale", .. }),
        "{source}"
    );
    let shown = err.to_string();
    assert!(shown.starts_with("site `obs_3` in `coin`: "), "{shown}");
    // What `fn main() -> pyro::Result<()>` prints is `Debug`: the same sentence, no struct dump.
    assert_eq!(format!("{err:?}"), shown);
}

#[test]
fn a_site_error_outside_a_named_function_has_no_function() {
    let err = Error::InvalidParameter {
        dist: "Normal",
        param: "scale",
        reason: "must be positive, got -1".into(),
    }
    .at_site("x");
    assert_eq!(
        err.to_string(),
        "site `x`: invalid parameter `scale` of Normal: must be positive, got -1"
    );
    // Naming the function once more keeps the first (innermost) name.
    let named = err.in_function("inner").in_function("outer");
    assert_eq!(
        format!("{named:?}"),
        "site `x` in `inner`: invalid parameter `scale` of Normal: must be positive, got -1"
    );
}
