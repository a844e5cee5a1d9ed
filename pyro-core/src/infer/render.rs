//! `render_model` (Pyro's `pyro.render_model`): the structure of a model as a graph — its sites,
//! the plates they sit in with their sizes, which are observed and which latent, and which
//! sites each site's distribution depends on — written as Graphviz DOT, or drawn as SVG, PNG or
//! PDF by Graphviz's `dot` program when it is installed.
//!
//! The dependencies come from the autodiff tape, not from the source text: the model is run
//! once with every sample site's value recorded as a fresh tape leaf, and a site depends on the
//! sites whose leaves its log-density was computed from (looking no further back than another
//! site, so that `a -> b -> c` draws two arrows, not three). A dependency that bypasses the tape
//! (a value turned into a plain number with `item()` and used in a Rust `if`, say) is not seen.
//!
//! ```
//! use pyro_core::prelude::*;
//! use pyro_core::infer::render_model;
//! # struct Coin;
//! # impl Model for Coin {
//! #     type Args<'a> = &'a [f64];
//! #     type Output = ();
//! #     const NAME: &'static str = "coin";
//! #     fn call<'a>(&self, ctx: &mut Context, data: &'a [f64]) {
//! #         let f = ctx.sample("fairness", Beta::new(10.0, 10.0), None);
//! #         ctx.plate("flips", data.len(), Default::default(), |ctx, _| {
//! #             ctx.sample("obs", Bernoulli::new(f.clone()), Some(Tensor::from(data.to_vec())));
//! #         });
//! #     }
//! # }
//! // `Coin`: fairness ~ Beta(10, 10); obs ~ Bernoulli(fairness) in a plate "flips".
//! let graph = render_model(&Coin, &[1.0, 0.0, 1.0]).unwrap();
//! assert_eq!(graph.edges(), [("fairness".to_string(), "obs".to_string())]);
//! assert_eq!(graph.plate("flips").unwrap().size, 3);
//! let dot = graph.to_dot();
//! assert!(dot.contains("subgraph cluster_0"));
//! // graph.write("coin.svg")?;  // runs `dot -Tsvg` (Graphviz)
//! ```

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

use super::Model;
use crate::checkpoint::write_atomically;
use crate::distributions::Distribution;
use crate::error::{Error, Result};
use crate::handlers::{Context, Message, Messenger};
use crate::tensor::{Tape, TapeStorage};
use crate::trace::SiteKind;

/// What a node of a [`ModelGraph`] is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NodeRole {
    /// A latent sample site (drawn): an empty ellipse.
    Latent,
    /// An observed sample site (`obs =`, or conditioned): a grey ellipse.
    Observed,
    /// A `deterministic!` site: a dotted ellipse.
    Deterministic,
    /// A `factor!` site: a box.
    Factor,
    /// A `param!` (a learnable parameter): plain text; drawn only with
    /// [`ModelGraph::with_params`].
    Param,
}

/// A site of a [`ModelGraph`].
#[derive(Clone, Debug, PartialEq)]
pub struct GraphNode {
    /// The site's name.
    pub name: String,
    /// Latent, observed, ...
    pub role: NodeRole,
    /// The name of its distribution (`"Normal"`; `""` for parameters).
    pub distribution: &'static str,
    /// The vectorised plates it sits in, outermost first (indices into [`ModelGraph::plates`]).
    pub plates: Vec<usize>,
}

/// A vectorised plate of a [`ModelGraph`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphPlate {
    /// The plate's name.
    pub name: String,
    /// Its full size (not the subsample size).
    pub size: usize,
}

/// The structure of a model, from [`render_model`]: nodes in execution order, plates, and the
/// edges `parent -> child` (the child's distribution was computed from the parent's value).
#[derive(Clone, Debug, PartialEq)]
pub struct ModelGraph {
    /// The model's name.
    pub name: String,
    /// Sample and param sites, in execution order.
    pub nodes: Vec<GraphNode>,
    /// The vectorised plates, in the order first entered.
    pub plates: Vec<GraphPlate>,
    /// `(parent, child)` as indices into `nodes`, sorted.
    pub edge_indices: Vec<(usize, usize)>,
    params: bool,
    distributions: bool,
}

/// Records the structure of a model run: see the module docs.
struct GraphRecorder {
    tape: Tape,
    graph: ModelGraph,
    /// Tape node of each site's value -> the site's index in `graph.nodes`.
    value_nodes: HashMap<u32, usize>,
}

impl GraphRecorder {
    /// The sites that `start` (a tape node) was computed from.
    fn parents_of(&self, start: Option<u32>) -> Vec<usize> {
        start.map_or_else(Vec::new, |id| {
            self.tape.sources(id, |n| self.value_nodes.get(&n).copied())
        })
    }

    fn plate_indices(&mut self, msg: &Message) -> Vec<usize> {
        msg.plates
            .iter()
            .filter(|p| p.dim.is_some())
            .map(
                |p| match self.graph.plates.iter().position(|q| q.name == *p.name) {
                    Some(i) => i,
                    None => {
                        self.graph.plates.push(GraphPlate {
                            name: p.name.to_string(),
                            size: p.size,
                        });
                        self.graph.plates.len() - 1
                    }
                },
            )
            .collect()
    }
}

impl Messenger for GraphRecorder {
    // Outermost handler: its `postprocess_message` runs first, so the fresh leaf it puts in
    // place of a sample site's value is what the model goes on with.
    fn postprocess_message(&mut self, msg: &mut Message) {
        if msg.error.is_some() {
            return;
        }
        let Some(value) = msg.value.clone() else {
            return;
        };
        let index = self.graph.nodes.len();
        if msg.kind == SiteKind::Param {
            if self.graph.nodes.iter().any(|n| n.name == *msg.name) {
                return; // read again: the same node
            }
            if let Some(id) = self.tape.id(&value) {
                self.value_nodes.insert(id, index);
            }
            self.graph.nodes.push(GraphNode {
                name: msg.name.to_string(),
                role: NodeRole::Param,
                distribution: "",
                plates: Vec::new(),
            });
            return;
        }
        let Some(dist) = &msg.dist else {
            return;
        };
        let distribution = base_name(dist.as_ref());
        let (role, parents) = match distribution {
            // The recorded value is what was computed from the other sites.
            "Deterministic" => (
                NodeRole::Deterministic,
                self.parents_of(self.tape.id(&value)),
            ),
            "Factor" => {
                let lp = dist.log_prob(&value);
                (NodeRole::Factor, self.parents_of(self.tape.id(&lp)))
            }
            _ => {
                let leaf = self.tape.leaf(value.detach());
                let own = self.tape.id(&leaf);
                // The log-density of the fresh leaf depends on the leaf itself (not a site yet,
                // so not a stop) and on the distribution's parameters.
                let lp = dist.log_prob(&leaf);
                let parents = self.parents_of(self.tape.id(&lp));
                msg.value = Some(leaf);
                let role = if msg.is_observed {
                    NodeRole::Observed
                } else {
                    NodeRole::Latent
                };
                if let Some(id) = own {
                    self.value_nodes.insert(id, index);
                }
                (role, parents)
            }
        };
        if matches!(role, NodeRole::Deterministic) {
            // What comes after depends on the deterministic site, not on what it was made of.
            let leaf = self.tape.leaf(value.detach());
            if let Some(id) = self.tape.id(&leaf) {
                self.value_nodes.insert(id, index);
            }
            msg.value = Some(leaf);
        }
        let plates = self.plate_indices(msg);
        self.graph.nodes.push(GraphNode {
            name: msg.name.to_string(),
            role,
            distribution,
            plates,
        });
        for p in parents {
            self.graph.edge_indices.push((p, index));
        }
    }
}

/// The name of a distribution under its `expand`/`to_event` wrappers.
fn base_name(mut d: &dyn Distribution) -> &'static str {
    loop {
        if let Some((inner, _)) = d.as_independent() {
            d = inner;
        } else if let Some((inner, _)) = d.as_expanded() {
            d = inner;
        } else {
            return d.name();
        }
    }
}

/// Runs `model` once on `args` (latent sites drawn from the prior, parameters at their initial
/// values, seed 0) and returns its structure: see the [module docs](self). The model's sites
/// must not depend on the draw for the graph to be the model's (a site that exists only on some
/// draws appears when it was drawn).
pub fn render_model<'a, M: Model>(model: &M, args: M::Args<'a>) -> Result<ModelGraph> {
    let mut ctx = Context::from_parts(
        crate::params::ParamStore::new(),
        crate::rng::rng_from_seed(0),
        TapeStorage::default(),
    );
    let recorder = GraphRecorder {
        tape: ctx.tape().clone(),
        graph: ModelGraph {
            name: M::NAME.to_string(),
            nodes: Vec::new(),
            plates: Vec::new(),
            edge_indices: Vec::new(),
            params: false,
            distributions: false,
        },
        value_nodes: HashMap::new(),
    };
    ctx.begin_run(true);
    let (_, recorder) = ctx.with_handler(recorder, |ctx| model.call(ctx, args));
    if let Some(e) = ctx.take_error() {
        return Err(e);
    }
    let mut graph = recorder.graph;
    graph.edge_indices.sort_unstable();
    graph.edge_indices.dedup();
    Ok(graph)
}

impl ModelGraph {
    /// Also draws the parameters (`param!` sites) and their edges (off by default, as in Pyro).
    pub fn with_params(mut self, on: bool) -> Self {
        self.params = on;
        self
    }

    /// Labels every sample site with its distribution (`mu ~ Normal`).
    pub fn with_distributions(mut self, on: bool) -> Self {
        self.distributions = on;
        self
    }

    /// The node called `name`.
    pub fn node(&self, name: &str) -> Option<&GraphNode> {
        self.nodes.iter().find(|n| n.name == name)
    }

    /// The plate called `name`.
    pub fn plate(&self, name: &str) -> Option<&GraphPlate> {
        self.plates.iter().find(|p| p.name == name)
    }

    /// The edges as `(parent, child)` names, without those touching a parameter unless
    /// [`ModelGraph::with_params`] is on; sorted by child then parent in execution order.
    pub fn edges(&self) -> Vec<(String, String)> {
        let mut e: Vec<(usize, usize)> = self
            .edge_indices
            .iter()
            .copied()
            .filter(|&(a, b)| self.shown(a) && self.shown(b))
            .collect();
        e.sort_unstable_by_key(|&(a, b)| (b, a));
        e.into_iter()
            .map(|(a, b)| (self.nodes[a].name.clone(), self.nodes[b].name.clone()))
            .collect()
    }

    fn shown(&self, i: usize) -> bool {
        self.params || self.nodes[i].role != NodeRole::Param
    }

    /// The graph in Graphviz's DOT language, drawn as Pyro draws it: latent sites as ellipses,
    /// observed ones filled grey, deterministic ones dotted, factors as boxes, parameters as
    /// plain text; each plate a box (a `cluster` subgraph, nested as the plates are) labelled
    /// with its name and size.
    pub fn to_dot(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "digraph {} {{", quote(&self.name));
        // Sites are grouped by their full plate path; nested plates become nested clusters.
        let shown: Vec<usize> = (0..self.nodes.len()).filter(|&i| self.shown(i)).collect();
        let mut paths: Vec<&[usize]> = shown
            .iter()
            .map(|&i| self.nodes[i].plates.as_slice())
            .collect();
        paths.sort();
        paths.dedup();
        // Every prefix of a path is a cluster too: the tree of clusters to write.
        let mut clusters: Vec<Vec<usize>> = Vec::new();
        for p in &paths {
            for k in 1..=p.len() {
                if !clusters.iter().any(|c| c[..] == p[..k]) {
                    clusters.push(p[..k].to_vec());
                }
            }
        }
        clusters.sort();
        self.write_level(&mut out, &[], &clusters, &shown, 1);
        for (a, b) in self.edges() {
            let _ = writeln!(out, "  {} -> {};", quote(&a), quote(&b));
        }
        out.push_str("}\n");
        out
    }

    /// Writes the nodes whose plate path is `path` and the clusters just inside it.
    fn write_level(
        &self,
        out: &mut String,
        path: &[usize],
        clusters: &[Vec<usize>],
        shown: &[usize],
        depth: usize,
    ) {
        let pad = "  ".repeat(depth);
        for &i in shown.iter().filter(|&&i| self.nodes[i].plates == path) {
            let n = &self.nodes[i];
            let label = if self.distributions && !n.distribution.is_empty() {
                format!("{} ~ {}", n.name, n.distribution)
            } else {
                n.name.clone()
            };
            let style = match n.role {
                NodeRole::Latent => "shape=ellipse",
                NodeRole::Observed => "shape=ellipse, style=filled, fillcolor=gray",
                NodeRole::Deterministic => "shape=ellipse, style=dotted",
                NodeRole::Factor => "shape=box",
                NodeRole::Param => "shape=plain",
            };
            let _ = writeln!(
                out,
                "{pad}{} [label={}, {style}];",
                quote(&n.name),
                quote(&label)
            );
        }
        for c in clusters
            .iter()
            .filter(|c| c.len() == path.len() + 1 && c.starts_with(path))
        {
            let plate = &self.plates[c[path.len()]];
            let id: Vec<String> = c.iter().map(usize::to_string).collect();
            let _ = writeln!(out, "{pad}subgraph cluster_{} {{", id.join("_"));
            let _ = writeln!(
                out,
                "{pad}  label={}; labeljust=r; labelloc=b;",
                quote(&format!("{} ({})", plate.name, plate.size))
            );
            self.write_level(out, c, clusters, shown, depth + 1);
            let _ = writeln!(out, "{pad}}}");
        }
    }

    /// Writes the graph to `path`: DOT for `.dot` / `.gv`; for `.svg`, `.png` and `.pdf`, the
    /// picture drawn by Graphviz's `dot` program (an error says so when it is not installed).
    /// Written atomically: on error the file is left as it was.
    pub fn write(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .unwrap_or_default();
        let bytes = match ext.as_str() {
            "dot" | "gv" => self.to_dot().into_bytes(),
            "svg" | "png" | "pdf" => run_dot(&self.to_dot(), &ext)
                .map_err(|e| Error::file(path, format!("not drawn: {e}")))?,
            _ => {
                return Err(Error::file(
                    path,
                    "unknown picture format: use .dot, .gv, .svg, .png or .pdf",
                ))
            }
        };
        write_atomically(path, &bytes, |_| Ok(()))
    }
}

/// Whether Graphviz's `dot` program can be run.
pub fn graphviz_available() -> bool {
    std::process::Command::new("dot")
        .arg("-V")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Pipes `dot` (the DOT text) through `dot -T<format>`.
fn run_dot(dot: &str, format: &str) -> std::result::Result<Vec<u8>, String> {
    use std::io::Write as _;
    use std::process::{Command, Stdio};
    let mut child = Command::new("dot")
        .arg(format!("-T{format}"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run Graphviz's `dot` ({e}); install Graphviz, or write a .dot file")
        })?;
    // Written from this thread while `dot` reads: DOT files of a model are small (kilobytes),
    // well under a pipe's buffer, and `dot` reads all its input before writing.
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("writing to `dot`: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("waiting for `dot`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`dot -T{format}` failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out.stdout)
}

/// A DOT string literal.
fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}
