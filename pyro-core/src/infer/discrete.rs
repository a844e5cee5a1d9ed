//! Decoding the enumerated discrete sites after inference: the most probable joint assignment
//! (Viterbi) or a draw from their exact posterior (forward filtering, backward sampling), given
//! the learned parameters. Pyro's `infer_discrete` with `temperature` 0 and 1.

use rand::Rng as _;

use super::trace_enum_elbo::{enum_run, TraceEnumElbo};
use super::Model;
use crate::error::{Error, Result};
use crate::handlers::enumerate::Elimination;
use crate::handlers::{Context, EnumMessenger};
use crate::params::ParamStore;
use crate::rng::rng_from_seed;
use crate::tensor::{TapeStorage, Tensor};
use crate::trace::SiteName;

/// What to decode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decode {
    /// The jointly most probable assignment (Viterbi, max-product).
    Map,
    /// One draw from the exact joint posterior (forward filtering, backward sampling).
    Sample,
}

/// The decoded values of the enumerated sites, in the order the model created them.
#[derive(Clone, Debug, Default)]
pub struct DiscreteValues {
    values: Vec<(SiteName, Tensor)>,
}

impl DiscreteValues {
    /// The value of site `name` (its shape is the site's batch shape).
    pub fn get(&self, name: &str) -> Result<&Tensor> {
        self.values
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
            .ok_or_else(|| Error::Unknown {
                kind: "enumerated site",
                name: name.to_string(),
            })
    }

    /// Site names, in creation order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.iter().map(|(n, _)| n.as_ref())
    }
}

/// Decodes the enumerated sites of `model` given the guide's values and the parameters in
/// `params` (no gradient, nothing is changed).
///
/// The model runs once under enumeration; each enumerated variable is summed out as in
/// [`TraceEnumElbo`], keeping the factor it was summed out of. Walking those back in reverse,
/// each variable is assigned given the ones assigned before it: by `argmax` for [`Decode::Map`],
/// by a draw for [`Decode::Sample`].
/// ```
/// use pyro::prelude::*;
///
/// #[model]
/// fn mixture(x: f64) {
///     let c = sample!("c", Bernoulli::new(0.3), enumerate);
///     sample!("x", Normal::new(&c * 4.0, 1.0), obs = x);
/// }
///
/// #[guide(model = mixture)]
/// fn nothing(_x: f64) {}
///
/// # fn main() -> pyro::Result<()> {
/// let params = ParamStore::new();
/// // x = 3 is far likelier under the component at 4 (c = 1) than at 0, despite the prior:
/// // p(c = 1 | x) = 0.3 e^(-1/2) / (0.3 e^(-1/2) + 0.7 e^(-9/2)) = 0.959.
/// let map = infer_discrete(&mixture, &nothing, &params, 3.0, Decode::Map, 0)?;
/// assert_eq!(map.get("c")?.item()?, 1.0);
/// // `Decode::Sample` draws from that posterior: the share of ones is within four binomial
/// // standard errors (0.01 each for 400 draws) of 0.959.
/// let mut ones = 0.0;
/// for seed in 0..400 {
///     ones += infer_discrete(&mixture, &nothing, &params, 3.0, Decode::Sample, seed)?.get("c")?.item()?;
/// }
/// let exact = 0.3 * (-0.5f64).exp() / (0.3 * (-0.5f64).exp() + 0.7 * (-4.5f64).exp());
/// assert!((ones / 400.0 - exact).abs() < 0.04, "{}", ones / 400.0);
/// # Ok(())
/// # }
/// ```
pub fn infer_discrete<'a, M, G>(
    model: &M,
    guide: &G,
    params: &ParamStore,
    args: M::Args<'a>,
    decode: Decode,
    seed: u64,
) -> Result<DiscreteValues>
where
    M: Model,
    G: Model<Args<'a> = M::Args<'a>>,
    M::Args<'a>: Clone,
{
    let mut ctx = Context::from_parts(params.clone(), rng_from_seed(seed), TapeStorage::default());
    ctx.grad_params = false;
    let nesting = TraceEnumElbo::default().plate_nesting(&mut ctx, model, guide, args.clone())?;
    let (en, _, _) = enum_run(
        &mut ctx,
        model,
        guide,
        args,
        EnumMessenger::new(nesting).recording(),
    )?;
    let (_, eliminations) = en.finish_recorded()?;
    let mut assigned: Vec<(usize, Assignment)> = Vec::new();
    let mut out = Vec::new();
    for e in eliminations.iter().rev() {
        let a = assign(e, &assigned, decode, &mut ctx)?;
        let value = values_of(e, &a, nesting)?;
        out.push((e.var.order, e.var.name.clone(), value));
        assigned.push((e.var.order, a));
    }
    out.sort_by_key(|(order, _, _)| *order);
    Ok(DiscreteValues {
        values: out.into_iter().map(|(_, n, v)| (n, v)).collect(),
    })
}

/// Chosen support indices of one variable, over a shape where its own and the other enumerated
/// dims are 1.
struct Assignment {
    shape: Vec<usize>,
    index: Vec<usize>,
}

impl Assignment {
    /// The index at position `o` of a (right-aligned, broadcast) shape `oshape`.
    fn at(&self, o: &[usize], oshape: &[usize]) -> usize {
        let (n, m) = (oshape.len(), self.shape.len());
        let mut flat = 0;
        for (j, &size) in self.shape.iter().enumerate() {
            let coord = if size == 1 || j + n < m {
                0
            } else {
                o[j + n - m]
            };
            flat = flat * size + coord.min(size - 1);
        }
        self.index[flat]
    }
}

fn strides(shape: &[usize]) -> Vec<usize> {
    let mut s = vec![1; shape.len()];
    for i in (0..shape.len().saturating_sub(1)).rev() {
        s[i] = s[i + 1] * shape[i + 1];
    }
    s
}

fn assign(
    e: &Elimination,
    assigned: &[(usize, Assignment)],
    decode: Decode,
    ctx: &mut Context,
) -> Result<Assignment> {
    let lf = &e.log_factor;
    let shape = lf.shape().to_vec();
    let values = lf.values()?;
    let n = shape.len() as isize;
    let axis = |dim: isize| (n + dim >= 0).then(|| (n + dim) as usize);
    let own = axis(e.var.dim).ok_or_else(|| {
        Error::Invalid(format!(
            "site `{}`: its factor lost its enumeration dim",
            e.var.name
        ))
    })?;
    let k = shape[own];
    let others: Vec<(usize, &Assignment)> = e
        .others
        .iter()
        .filter_map(|(order, dim)| {
            let a = assigned.iter().find(|(o, _)| o == order).map(|(_, a)| a)?;
            Some((axis(*dim)?, a))
        })
        .collect();
    let mut oshape = shape.clone();
    oshape[own] = 1;
    for (ax, _) in &others {
        oshape[*ax] = 1;
    }
    let total: usize = oshape.iter().product();
    let st = strides(&shape);
    let ost = strides(&oshape);
    let mut index = Vec::with_capacity(total);
    let mut o = vec![0usize; oshape.len()];
    let mut scores = vec![0.0; k];
    for flat in 0..total {
        let mut rem = flat;
        for (j, s) in ost.iter().enumerate() {
            o[j] = rem / s;
            rem %= s;
        }
        let mut base = 0;
        for (j, &c) in o.iter().enumerate() {
            base += c.min(shape[j] - 1) * st[j];
        }
        for (ax, a) in &others {
            base += a.at(&o, &oshape) * st[*ax];
        }
        for (kk, sc) in scores.iter_mut().enumerate() {
            *sc = values[base + kk * st[own]];
        }
        index.push(choose(&scores, decode, ctx));
    }
    Ok(Assignment {
        shape: oshape,
        index,
    })
}

fn choose(scores: &[f64], decode: Decode, ctx: &mut Context) -> usize {
    let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    match decode {
        Decode::Map => scores.iter().position(|&s| s == m).unwrap_or(0),
        Decode::Sample => {
            let w: Vec<f64> = scores.iter().map(|s| (s - m).exp()).collect();
            let mut u = ctx.rng().random::<f64>() * w.iter().sum::<f64>();
            for (i, wi) in w.iter().enumerate() {
                if u < *wi {
                    return i;
                }
                u -= wi;
            }
            w.len() - 1
        }
    }
}

/// The support values at the chosen indices, shaped like the plate dims.
fn values_of(e: &Elimination, a: &Assignment, nesting: usize) -> Result<Tensor> {
    let support = e.var.support.values()?;
    let v: Vec<f64> = a
        .index
        .iter()
        .map(|&i| support[i.min(support.len() - 1)])
        .collect();
    let keep = nesting.min(a.shape.len());
    let mut shape: Vec<usize> = a.shape[a.shape.len() - keep..].to_vec();
    while shape.first() == Some(&1) {
        shape.remove(0);
    }
    if shape.is_empty() {
        return Ok(Tensor::scalar(v[0]));
    }
    Tensor::new(v, &shape)
}
