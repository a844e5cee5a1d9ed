//! `TraceEnumElbo`: the ELBO with the model's discrete latent sites summed out exactly.

use super::elbo::{check_match, non_finite_site, Elbo, ElboRun};
use super::trace_elbo::with_guide_terms;
use super::Model;
use crate::error::{Error, Result};
use crate::handlers::{Context, EnumMessenger, ReplayMessenger, TraceMessenger};
use crate::tensor::Tensor;
use crate::trace::Trace;

/// The evidence lower bound where every model site marked `enumerate` is summed out exactly
/// (Pyro's `TraceEnum_ELBO` with parallel enumeration).
///
/// The guide samples the other latent sites; the enumerated ones it must leave alone. For each
/// particle the model runs once, with each enumerated site's whole support along a dimension of
/// its own left of the plates, and its log-density is summed over them by variable elimination
/// (see [`EnumMessenger`]); wrap time loops in [`Context::markov`] so that a chain costs
/// `O(T K^2)`. With point-mass (Delta) guides for the continuous sites the loss is exactly
/// `-log p(y, θ)`.
///
/// Gradients: pathwise through reparameterised guide sites, score function for the others, as in
/// [`TraceElbo`](super::TraceElbo).
/// ```
/// use pyro::prelude::*;
///
/// // A two-component mixture: c ~ Bernoulli(0.3) picks the mean (0 or 3) of x.
/// #[model]
/// fn mixture(x: f64) {
///     let c = sample!("c", Bernoulli::new(0.3), enumerate);
///     sample!("x", Normal::new(&c * 3.0, 1.0), obs = x);
/// }
///
/// // `c` is summed out, not sampled: nothing is left for the guide.
/// #[guide(model = mixture)]
/// fn nothing(_x: f64) {}
///
/// # fn main() -> pyro::Result<()> {
/// let adam = Adam::new(AdamConfig::default());
/// let mut svi = Svi::new(mixture, nothing, adam, TraceEnumElbo::default());
/// let n = |v: f64, m: f64| (-(v - m).powi(2) / 2.0).exp() / (2.0 * std::f64::consts::PI).sqrt();
/// let exact = -(0.7 * n(2.0, 0.0) + 0.3 * n(2.0, 3.0)).ln(); // -ln p(x = 2), exactly
/// assert!((svi.evaluate_loss(2.0)? - exact).abs() < 1e-12);
/// # Ok(())
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct TraceEnumElbo {
    /// Number of particles (guide draws) averaged per step.
    pub num_particles: usize,
    /// How many plate dims the model nests at most; enumeration dims go to their left.
    /// `None`: found by running guide and model once.
    pub max_plate_nesting: Option<usize>,
}

impl Default for TraceEnumElbo {
    fn default() -> Self {
        TraceEnumElbo {
            num_particles: 1,
            max_plate_nesting: None,
        }
    }
}

impl TraceEnumElbo {
    /// An enumerated ELBO averaged over `num_particles` guide draws.
    pub fn new(num_particles: usize) -> TraceEnumElbo {
        TraceEnumElbo {
            num_particles: num_particles.max(1),
            max_plate_nesting: None,
        }
    }

    /// Sets the plate nesting instead of discovering it.
    pub fn with_max_plate_nesting(mut self, n: usize) -> TraceEnumElbo {
        self.max_plate_nesting = Some(n);
        self
    }

    /// The plate nesting: given, or the deepest plate dim of one plain run of guide and model.
    pub(crate) fn plate_nesting<'a, M, G>(
        &mut self,
        ctx: &mut Context,
        model: &M,
        guide: &G,
        args: M::Args<'a>,
    ) -> Result<usize>
    where
        M: Model,
        G: Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        if let Some(n) = self.max_plate_nesting {
            return Ok(n);
        }
        // A prototype run, only to see the plates: its draws feed no gradient, so a shard of a
        // data plate (threads, MPI ranks) must not refuse the model's enumerated sites as
        // score-function draws here.
        let role = ctx.shard.take();
        let traces = super::elbo::get_traces(ctx, model, guide, args);
        ctx.shard = role;
        let (mt, gt) = traces?;
        let deepest = |t: &Trace| {
            t.sites()
                .iter()
                .flat_map(|s| s.plates.iter().filter_map(|p| p.dim))
                .map(|d| (-d) as usize)
                .max()
                .unwrap_or(0)
        };
        let n = deepest(&mt).max(deepest(&gt));
        self.max_plate_nesting = Some(n);
        Ok(n)
    }
}

/// Runs the guide, then the model with the guide's values replayed and the enumerated sites
/// summed out. Returns the model's log-density (enumerated sites summed out), the guide trace and
/// the model trace.
pub(crate) fn enum_run<'a, M, G>(
    ctx: &mut Context,
    model: &M,
    guide: &G,
    args: M::Args<'a>,
    enumerator: EnumMessenger,
) -> Result<(EnumMessenger, Trace, Trace)>
where
    M: Model,
    G: Model<Args<'a> = M::Args<'a>>,
    M::Args<'a>: Clone,
{
    ctx.begin_run(true);
    let (_, tr) = ctx.with_handler(TraceMessenger::new(), |ctx| guide.call(ctx, args.clone()));
    if let Some(e) = ctx.take_error() {
        return Err(e.in_function(G::NAME));
    }
    ctx.begin_run(false);
    let ((((), en), replay), tr_model) = ctx.with_handler(TraceMessenger::new(), |ctx| {
        ctx.with_handler(ReplayMessenger::new(tr.into_trace()), |ctx| {
            ctx.with_handler(enumerator, |ctx| {
                model.call(ctx, args);
            })
        })
    });
    if let Some(e) = ctx.take_error() {
        return Err(e.in_function(M::NAME));
    }
    let (model_trace, guide_trace) = (tr_model.into_trace(), replay.into_trace());
    check_match(&model_trace, &guide_trace, M::NAME, G::NAME)?;
    for s in guide_trace.sample_sites() {
        if model_trace.get(&s.name).is_some_and(|m| m.infer.enumerate) {
            return Err(Error::Invalid(format!(
                "site `{}` is enumerated in the model `{}` but sampled by the guide `{}`",
                s.name,
                M::NAME,
                G::NAME
            )));
        }
    }
    Ok((en, model_trace, guide_trace))
}

impl Elbo for TraceEnumElbo {
    fn num_particles(&self) -> usize {
        self.num_particles.max(1)
    }

    fn one_particle(&self) -> Option<Self> {
        Some(TraceEnumElbo {
            num_particles: 1,
            ..self.clone()
        })
    }

    fn loss_and_surrogate<'a, M, G>(
        &mut self,
        ctx: &mut Context,
        model: &M,
        guide: &G,
        args: M::Args<'a>,
    ) -> Result<ElboRun>
    where
        M: Model,
        G: Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let nesting = self.plate_nesting(ctx, model, guide, args.clone())?;
        let n = self.num_particles.max(1);
        let mut loss = 0.0;
        let mut surrogate = Tensor::scalar(0.0);
        for _ in 0..n {
            let (en, mt, gt) =
                enum_run(ctx, model, guide, args.clone(), EnumMessenger::new(nesting))?;
            let (elbo, surr) = with_guide_terms(en.finish()?, &gt)?;
            let e = elbo.item()?;
            if !e.is_finite() {
                return Err(non_finite_site(&[&mt, &gt]));
            }
            loss -= e / n as f64;
            surrogate = surrogate - surr * (1.0 / n as f64);
        }
        let surrogate = surrogate.check()?;
        Ok(ElboRun { loss, surrogate })
    }
}
