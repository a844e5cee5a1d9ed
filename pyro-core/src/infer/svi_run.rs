//! The training loop that every SVI program writes: [`Svi::run`] takes a number of steps,
//! draws a progress bar on a terminal, and returns the loss history; [`Svi::run_with`] adds a
//! callback for logging and early stopping.

use std::io::IsTerminal;
use std::ops::ControlFlow;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::{Elbo, GuideFor, Model, Svi};
use crate::error::Result;
use crate::optim::Optimizer;
use crate::params::ParamStore;

/// What the callback of [`Svi::run_with`] sees after each step.
#[derive(Debug, Clone, Copy)]
pub struct StepInfo<'s> {
    /// The index of the step just taken within this run, from 0.
    pub step: usize,
    /// Its loss (`-ELBO` estimate).
    pub loss: f64,
    /// The parameters after the step.
    pub params: &'s ParamStore,
}

/// How often the bar's message (the mean loss of the last steps) is refreshed: a message
/// allocates, and a step of a small model takes microseconds.
const MESSAGE_EVERY: usize = 100;

impl<M: Model, G: Model, O: Optimizer, L: Elbo> Svi<M, G, O, L> {
    /// Whether [`Svi::run`] and [`Svi::run_with`] draw a progress bar (default: on). The bar is
    /// only ever drawn when standard error is a terminal, never into logs, pipes or CI output.
    pub fn progress_bar(mut self, on: bool) -> Self {
        self.progress = on;
        self
    }

    /// Takes `steps` steps on the same arguments and returns the loss of each, in order (Pyro's
    /// `for step in range(n): losses.append(svi.step(data))`). On a terminal a progress bar
    /// shows the steps and the mean loss of the last 100.
    ///
    /// The first failed step ends the run with its error; the steps before it stay taken.
    ///
    /// ```
    /// use pyro_core::constraints::Constraint;
    /// use pyro_core::infer::GuideFor;
    /// use pyro_core::prelude::*;
    ///
    /// // z ~ N(0, 1), x ~ N(z, 1) observed (`#[model]` writes this impl for you).
    /// struct Prior;
    /// impl Model for Prior {
    ///     type Args<'a> = f64;
    ///     type Output = ();
    ///     const NAME: &'static str = "model";
    ///     fn call<'a>(&self, ctx: &mut Context, x: f64) {
    ///         let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
    ///         ctx.sample("x", Normal::new(z, 1.0), Some(x.into()));
    ///     }
    /// }
    /// struct Guide;
    /// impl Model for Guide {
    ///     type Args<'a> = f64;
    ///     type Output = ();
    ///     const NAME: &'static str = "guide";
    ///     fn call<'a>(&self, ctx: &mut Context, _x: f64) {
    ///         let loc = ctx.param("loc", || 0.0, Constraint::Real);
    ///         ctx.sample("z", Normal::new(loc, 0.7), None);
    ///     }
    /// }
    /// impl GuideFor<Prior> for Guide {}
    ///
    /// # fn main() -> pyro_core::Result<()> {
    /// let (model, guide) = (Prior, Guide);
    /// let adam = Adam::new(AdamConfig { lr: 0.05, ..Default::default() });
    /// let mut svi = Svi::new(model, guide, adam, TraceElbo::default()).seed(0);
    /// let losses = svi.run(2000, 2.0)?;
    /// assert_eq!(losses.len(), 2000);
    /// // The posterior mean is x / 2.
    /// assert!((svi.params().scalar("loc")? - 1.0).abs() < 0.1);
    /// # Ok(())
    /// # }
    /// ```
    pub fn run<'a>(&mut self, steps: usize, args: M::Args<'a>) -> Result<Vec<f64>>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        self.run_with(steps, args, |_| ControlFlow::Continue(()))
    }

    /// [`Svi::run`] with a callback after each step, which sees the step, its loss and the
    /// parameters, and returns [`ControlFlow::Break`] to stop early (the history then ends with
    /// that step's loss). For logging, early stopping on a plateau, or recording a parameter's
    /// trajectory.
    ///
    /// ```
    /// use std::ops::ControlFlow;
    /// use pyro_core::constraints::Constraint;
    /// use pyro_core::infer::GuideFor;
    /// use pyro_core::prelude::*;
    ///
    /// // z ~ N(0, 1), x ~ N(z, 1) observed (`#[model]` writes this impl for you).
    /// struct Prior;
    /// impl Model for Prior {
    ///     type Args<'a> = f64;
    ///     type Output = ();
    ///     const NAME: &'static str = "model";
    ///     fn call<'a>(&self, ctx: &mut Context, x: f64) {
    ///         let z = ctx.sample("z", Normal::new(0.0, 1.0), None);
    ///         ctx.sample("x", Normal::new(z, 1.0), Some(x.into()));
    ///     }
    /// }
    /// struct Guide;
    /// impl Model for Guide {
    ///     type Args<'a> = f64;
    ///     type Output = ();
    ///     const NAME: &'static str = "guide";
    ///     fn call<'a>(&self, ctx: &mut Context, _x: f64) {
    ///         let loc = ctx.param("loc", || 0.0, Constraint::Real);
    ///         ctx.sample("z", Normal::new(loc, 0.7), None);
    ///     }
    /// }
    /// impl GuideFor<Prior> for Guide {}
    ///
    /// # fn main() -> pyro_core::Result<()> {
    /// let (model, guide) = (Prior, Guide);
    /// let adam = Adam::new(AdamConfig::default());
    /// let mut svi = Svi::new(model, guide, adam, TraceElbo::default());
    /// // Stop once the guide's mean has moved half-way to the posterior mean 1.
    /// let losses = svi.run_with(10_000, 2.0, |s| {
    ///     if s.step % 1000 == 0 {
    ///         eprintln!("step {} loss {:.3}", s.step, s.loss);
    ///     }
    ///     match s.params.scalar("loc") {
    ///         Ok(loc) if loc > 0.5 => ControlFlow::Break(()),
    ///         _ => ControlFlow::Continue(()),
    ///     }
    /// })?;
    /// assert!(losses.len() < 10_000);
    /// # Ok(())
    /// # }
    /// ```
    pub fn run_with<'a>(
        &mut self,
        steps: usize,
        args: M::Args<'a>,
        mut callback: impl FnMut(&StepInfo<'_>) -> ControlFlow<()>,
    ) -> Result<Vec<f64>>
    where
        G: GuideFor<M> + Model<Args<'a> = M::Args<'a>>,
        M::Args<'a>: Clone,
    {
        let bar = self.bar(steps);
        let mut losses = Vec::with_capacity(steps);
        for step in 0..steps {
            let loss = match self.step(args.clone()) {
                Ok(loss) => loss,
                Err(e) => {
                    if let Some(bar) = &bar {
                        bar.abandon_with_message(format!("step {step} failed"));
                    }
                    return Err(e);
                }
            };
            losses.push(loss);
            if let Some(bar) = &bar {
                bar.inc(1);
                if (step + 1) % MESSAGE_EVERY == 0 {
                    let recent = &losses[losses.len() - MESSAGE_EVERY..];
                    let mean = recent.iter().sum::<f64>() / MESSAGE_EVERY as f64;
                    bar.set_message(format!("{mean:.4}"));
                }
            }
            let info = StepInfo {
                step,
                loss,
                params: self.params(),
            };
            if callback(&info).is_break() {
                break;
            }
        }
        if let Some(bar) = bar {
            bar.finish();
        }
        Ok(losses)
    }

    /// A bar of `steps` steps when bars are on and standard error is a terminal.
    fn bar(&self, steps: usize) -> Option<ProgressBar> {
        if !self.progress || !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(Some(steps as u64), ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} steps [{elapsed_precise}<{eta_precise}] loss {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        Some(bar)
    }
}
