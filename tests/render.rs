//! `render_model`: the graph of the coin, eight schools and VAE models (sites, roles, plates
//! with sizes, dependencies), its DOT text read back into the same structure, and pictures drawn
//! by Graphviz where `dot` is installed (required in CI, where `.ci/run` installs it).

use std::collections::{BTreeMap, BTreeSet};

use pyro::infer::render::{graphviz_available, NodeRole};
use pyro::infer::render_model;
#[path = "../examples/common/vae_model.rs"]
mod vae_model;
use pyro::prelude::*;
use vae_model::{Vae, VaeConfig};

#[model]
fn coin(data: &[f64]) {
    let f = sample!("latent_fairness", Beta::new(10.0, 10.0));
    for (i, &x) in data.iter().enumerate() {
        sample!(format!("obs_{i}"), Bernoulli::new(f.clone()), obs = x);
    }
}

#[model]
fn eight_schools(y: &[f64], sigma: &[f64]) {
    let mu = sample!("mu", Normal::new(0.0, 5.0));
    let tau = sample!("tau", HalfCauchy::new(5.0));
    plate!("schools", y.len(), |_idx| {
        let theta_tilde = sample!("theta_tilde", Normal::new(0.0, 1.0));
        let theta = deterministic!("theta", &mu + &tau * theta_tilde);
        sample!("obs", Normal::new(theta, sigma.to_vec()), obs = y.to_vec());
    });
}

/// Nested plates, one subsampled: sizes are the full sizes; a site that only reads a parameter
/// and one that depends on two sites at once.
#[model]
fn nested(_n: usize) {
    let scale = param!("scale", 1.0, constraint = positive);
    let g = sample!("g", Normal::new(0.0, scale));
    plate!("outer", 5, dim = -2, |_i| {
        let a = sample!("a", Normal::new(g.clone(), 1.0));
        plate!("inner", 100, subsample_size = 3, dim = -1, |_j| {
            sample!("b", Normal::new(&a + &g, 1.0));
        });
    });
}

const Y: [f64; 8] = [28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0];
const SIGMA: [f64; 8] = [15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0];

fn pairs(list: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    list.iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

/// The structure of a DOT text as `render_model` writes it: each node's attributes and the
/// chain of cluster labels around it, and the edges. A minimal reader for this one layout (one
/// statement a line), so that the test compares structure, not bytes.
#[derive(Debug, Default)]
struct Dot {
    /// name -> (attribute text, enclosing cluster labels, outermost first)
    nodes: BTreeMap<String, (String, Vec<String>)>,
    edges: BTreeSet<(String, String)>,
}

fn unquote(s: &str) -> String {
    s.trim()
        .trim_end_matches(';')
        .trim()
        .trim_matches('"')
        .to_string()
}

fn read_dot(text: &str) -> Dot {
    let mut dot = Dot::default();
    let mut clusters: Vec<String> = Vec::new();
    let mut lines = text.lines();
    assert!(lines.next().unwrap().starts_with("digraph "));
    for line in lines {
        let line = line.trim();
        if line.starts_with("subgraph cluster_") {
            clusters.push(String::new());
        } else if let Some(label) = line.strip_prefix("label=") {
            let label = label.split(';').next().unwrap();
            *clusters.last_mut().expect("a label inside a cluster") = unquote(label);
        } else if line == "}" {
            // The last `}` closes the digraph.
            clusters.pop();
        } else if let Some((a, b)) = line.split_once(" -> ") {
            dot.edges.insert((unquote(a), unquote(b)));
        } else if let Some((name, attrs)) = line.split_once(" [") {
            let prev = dot
                .nodes
                .insert(unquote(name), (attrs.to_string(), clusters.clone()));
            assert!(prev.is_none(), "node {name} declared twice");
        } else {
            panic!("unexpected DOT line {line:?}");
        }
    }
    dot
}

#[test]
fn the_coin_has_one_latent_site_feeding_ten_observations() {
    let data = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0];
    let g = render_model(&coin, &data).unwrap();
    assert_eq!(g.nodes.len(), 11);
    let f = g.node("latent_fairness").unwrap();
    assert_eq!((f.role, f.distribution), (NodeRole::Latent, "Beta"));
    for i in 0..10 {
        let o = g.node(&format!("obs_{i}")).unwrap();
        assert_eq!((o.role, o.distribution), (NodeRole::Observed, "Bernoulli"));
    }
    assert!(g.plates.is_empty());
    let want: BTreeSet<(String, String)> = (0..10)
        .map(|i| ("latent_fairness".to_string(), format!("obs_{i}")))
        .collect();
    assert_eq!(g.edges().into_iter().collect::<BTreeSet<_>>(), want);

    let dot = read_dot(&g.to_dot());
    assert_eq!(dot.edges, want);
    assert_eq!(dot.nodes.len(), 11);
    assert!(dot.nodes["obs_3"].0.contains("fillcolor=gray"));
    assert!(!dot.nodes["latent_fairness"].0.contains("filled"));
    assert!(dot.nodes.values().all(|(_, c)| c.is_empty()));
}

#[test]
fn eight_schools_has_its_plate_deterministic_site_and_dependencies() {
    let g = render_model(&eight_schools, (&Y[..], &SIGMA[..])).unwrap();
    let roles: Vec<(&str, NodeRole, &str)> = g
        .nodes
        .iter()
        .map(|n| (n.name.as_str(), n.role, n.distribution))
        .collect();
    assert_eq!(
        roles,
        [
            ("mu", NodeRole::Latent, "Normal"),
            ("tau", NodeRole::Latent, "HalfCauchy"),
            ("theta_tilde", NodeRole::Latent, "Normal"),
            ("theta", NodeRole::Deterministic, "Deterministic"),
            ("obs", NodeRole::Observed, "Normal"),
        ]
    );
    assert_eq!(g.plate("schools").unwrap().size, 8);
    // `obs` depends on `theta` only, not on what `theta` is made of.
    let want = pairs(&[
        ("mu", "theta"),
        ("tau", "theta"),
        ("theta_tilde", "theta"),
        ("theta", "obs"),
    ]);
    assert_eq!(g.edges().into_iter().collect::<BTreeSet<_>>(), want);

    let dot = read_dot(&g.with_distributions(true).to_dot());
    assert_eq!(dot.edges, want);
    let schools = vec!["schools (8)".to_string()];
    for name in ["theta_tilde", "theta", "obs"] {
        assert_eq!(dot.nodes[name].1, schools, "{name}");
    }
    for name in ["mu", "tau"] {
        assert!(dot.nodes[name].1.is_empty(), "{name}");
    }
    assert!(dot.nodes["theta"].0.contains("style=dotted"));
    assert!(dot.nodes["tau"].0.contains(r#"label="tau ~ HalfCauchy""#));
}

#[test]
fn the_vae_draws_z_in_the_data_plate_and_the_decoder_parameters_feed_the_likelihood() {
    let vae = Vae::new(VaeConfig {
        x_dim: 6,
        hidden: 5,
        z_dim: 2,
    });
    let x = Tensor::new((0..24).map(|i| (i % 2) as f64).collect(), &[4, 6]).unwrap();
    let g = render_model(&vae_model::model, (&vae, &x)).unwrap();
    let z = g.node("latent").unwrap();
    assert_eq!((z.role, z.distribution), (NodeRole::Latent, "Normal"));
    assert_eq!(g.plates[z.plates[0]].name, "data");
    assert_eq!(g.plate("data").unwrap().size, 4);
    assert_eq!(g.node("obs").unwrap().role, NodeRole::Observed);
    assert_eq!(g.edges(), [("latent".to_string(), "obs".to_string())]);

    // With parameters: every decoder parameter feeds `x` and nothing else; `z` reads none.
    let params: Vec<String> = g
        .nodes
        .iter()
        .filter(|n| n.role == NodeRole::Param)
        .map(|n| n.name.clone())
        .collect();
    assert!(params.len() >= 4, "{params:?}");
    assert!(
        params.iter().all(|p| p.starts_with("decoder")),
        "{params:?}"
    );
    let g = g.with_params(true);
    let mut want = pairs(&[("latent", "obs")]);
    want.extend(params.iter().map(|p| (p.clone(), "obs".to_string())));
    assert_eq!(g.edges().into_iter().collect::<BTreeSet<_>>(), want);
    let dot = read_dot(&g.to_dot());
    assert_eq!(dot.edges, want);
    assert_eq!(dot.nodes["latent"].1, ["data (4)"]);
    assert!(dot.nodes[&params[0]].0.contains("shape=plain"));
}

#[test]
fn nested_plates_nest_clusters_with_full_sizes() {
    let g = render_model(&nested, 0).unwrap();
    assert_eq!(g.plate("inner").unwrap().size, 100);
    let want = pairs(&[("g", "a"), ("a", "b"), ("g", "b")]);
    assert_eq!(g.edges().into_iter().collect::<BTreeSet<_>>(), want);
    let g = g.with_params(true);
    let dot = read_dot(&g.to_dot());
    assert_eq!(dot.nodes["b"].1, ["outer (5)", "inner (100)"]);
    assert_eq!(dot.nodes["a"].1, ["outer (5)"]);
    assert!(dot.edges.contains(&("scale".to_string(), "g".to_string())));
}

#[test]
fn pictures_are_drawn_by_graphviz() {
    let g = render_model(&eight_schools, (&Y[..], &SIGMA[..])).unwrap();
    let dir = std::env::temp_dir().join(format!("pyro-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // An unknown format names the file and writes nothing.
    let bad = dir.join("model.jpeg");
    let e = g.write(&bad).unwrap_err().to_string();
    assert!(e.contains("model.jpeg") && e.contains(".svg"), "{e}");
    assert!(!bad.exists());
    g.write(dir.join("model.dot")).unwrap();
    assert_eq!(
        std::fs::read_to_string(dir.join("model.dot")).unwrap(),
        g.to_dot()
    );
    if !graphviz_available() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI needs Graphviz (`.ci/run` installs it)"
        );
        eprintln!("skipped: Graphviz's `dot` is not installed (apt-get install graphviz)");
        return;
    }
    g.write(dir.join("model.svg")).unwrap();
    let svg = std::fs::read_to_string(dir.join("model.svg")).unwrap();
    assert!(svg.contains("<svg") && svg.contains("theta_tilde") && svg.contains("schools (8)"));
    g.write(dir.join("model.png")).unwrap();
    let png = std::fs::read(dir.join("model.png")).unwrap();
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
}
