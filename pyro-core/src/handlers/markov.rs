//! `markov`: a loop whose steps depend only on the last few steps, as in a hidden Markov model.
//!
//! Outside enumeration it is an ordinary loop. Under [`TraceEnumElbo`](crate::infer::TraceEnumElbo)
//! it lets the enumeration sum out each discrete state once the loop has moved `history` steps
//! past it and reuse its tensor dimension, so a chain of length `T` with `K` states costs
//! `O(T K^2)` rather than `O(K^T)` (Pyro's `pyro.markov`).

use super::{Context, MarkovEvent};

impl Context {
    /// Runs `f(ctx, item)` for each item, as the steps of a first-order Markov chain: step `t` may
    /// use values from step `t - 1` but not from earlier steps.
    ///
    /// ```
    /// use pyro_core::prelude::*;
    /// let mut ctx = Context::new(0);
    /// let mut states = Vec::new();
    /// ctx.markov(0..3, |ctx, t| {
    ///     states.push(ctx.sample(format!("x_{t}"), Bernoulli::new(0.5), None));
    /// });
    /// assert_eq!(states.len(), 3);
    /// ```
    pub fn markov<I: IntoIterator>(&mut self, steps: I, f: impl FnMut(&mut Context, I::Item)) {
        self.markov_with_history(1, steps, f)
    }

    /// [`Context::markov`] where a step may depend on the `history` steps before it.
    pub fn markov_with_history<I: IntoIterator>(
        &mut self,
        history: usize,
        steps: I,
        mut f: impl FnMut(&mut Context, I::Item),
    ) {
        self.notify_markov(MarkovEvent::Enter { history });
        for item in steps {
            self.notify_markov(MarkovEvent::Step);
            f(self, item);
        }
        self.notify_markov(MarkovEvent::Exit);
    }
}
