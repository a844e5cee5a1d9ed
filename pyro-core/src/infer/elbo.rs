//! The interface shared by the ELBO objectives.

use super::{GuideFor, Model};
use crate::error::{Error, Result};
use crate::handlers::{Context, ReplayMessenger, TraceMessenger};
use crate::tensor::Tensor;
use crate::trace::Trace;

/// What an ELBO computes for one step.
pub struct ElboRun {
    /// The loss, `-ELBO`, averaged over particles (a number: no gradient).
    pub loss: f64,
    /// A surrogate whose gradient is the gradient estimator of the loss; on the context's tape.
    pub surrogate: Tensor,
}

/// An objective for variational inference: estimates `-ELBO` and a surrogate for its gradient.
pub trait Elbo {
    /// Runs guide and model (on `ctx`'s tape) and returns loss and surrogate.
    fn loss_and_surrogate<'a, M, G>(
        &mut self,
        ctx: &mut Context,
        model: &M,
        guide: &G,
        args: M::Args<'a>,
    ) -> Result<ElboRun>
    where
        M: Model,
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone;

    /// The number of particles (joint draws) one evaluation averages.
    fn num_particles(&self) -> usize {
        1
    }

    /// This estimator for a single particle, when its particles are independent (no state
    /// shared between them, such as a running baseline): the parallel drivers then evaluate the
    /// particles apart and average them. `None` (the default) runs all particles together.
    fn one_particle(&self) -> Option<Self>
    where
        Self: Sized,
    {
        None
    }
}

/// Runs the guide under `trace`, then the model under `trace(replay(.., guide_trace))`, and checks
/// that the two agree on their sites (the run-time half of the model/guide check: names built at
/// run time can only be checked here). Returns `(model_trace, guide_trace)`.
pub(crate) fn get_traces<'a, M, G>(
    ctx: &mut Context,
    model: &M,
    guide: &G,
    args: M::Args<'a>,
) -> Result<(Trace, Trace)>
where
    M: Model,
    G: Model<Args<'a> = M::Args<'a>>,
    M::Args<'a>: Clone,
{
    ctx.begin_run(true);
    let guide_tracer = TraceMessenger::with_trace(ctx.take_trace());
    let (_, tr) = ctx.with_handler(guide_tracer, |ctx| guide.call(ctx, args.clone()));
    if let Some(e) = ctx.take_error() {
        return Err(e.in_function(G::NAME));
    }
    ctx.begin_run(false);
    let model_tracer = TraceMessenger::with_trace(ctx.take_trace());
    let ((_, replay), tr_model) = ctx.with_handler(model_tracer, |ctx| {
        ctx.with_handler(ReplayMessenger::new(tr.into_trace()), |ctx| {
            model.call(ctx, args)
        })
    });
    if let Some(e) = ctx.take_error() {
        return Err(e.in_function(M::NAME));
    }
    let (model_trace, guide_trace) = (tr_model.into_trace(), replay.into_trace());
    check_match(&model_trace, &guide_trace, M::NAME, G::NAME)?;
    Ok((model_trace, guide_trace))
}

/// Every latent model site must be sampled by the guide (unless enumerated), and every guide
/// sample site must exist, unobserved, in the model.
pub(crate) fn check_match(
    model: &Trace,
    guide: &Trace,
    model_name: &str,
    guide_name: &str,
) -> Result<()> {
    for s in model.sample_sites() {
        if s.is_latent() && !s.infer.enumerate && !guide.contains(&s.name) {
            return Err(Error::MissingGuideSite {
                site: s.name.to_string(),
                guide: guide_name.to_string(),
            });
        }
    }
    for s in guide.sample_sites().filter(|s| !s.infer.is_auxiliary) {
        match model.get(&s.name) {
            None => return Err(Error::UnknownGuideSite { site: s.name.to_string(), model: model_name.to_string() }),
            Some(m) if m.is_observed => {
                return Err(Error::Invalid(format!("site `{}` is observed in the model `{model_name}` but sampled by the guide `{guide_name}`", s.name)))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The first site whose log-density is not finite, to name it in the error of a refused step.
pub(crate) fn non_finite_site(traces: &[&Trace]) -> Error {
    for t in traces {
        for s in t.sample_sites() {
            if let Ok(lp) = s.log_prob_sum() {
                if !lp.is_finite() {
                    return Error::NonFinite {
                        what: "log-density",
                        name: s.name.to_string(),
                    };
                }
            }
        }
    }
    Error::NonFinite {
        what: "loss",
        name: "the ELBO".to_string(),
    }
}
