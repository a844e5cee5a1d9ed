//! One progress bar per chain on a terminal (indicatif): the phase, the step size and the
//! divergences so far. Nothing is drawn when standard error is not a terminal (logs, CI, pipes).

use std::io::IsTerminal;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::kernel::DrawStats;

/// The bars of a run.
pub(crate) struct Progress {
    multi: Option<MultiProgress>,
}

impl Progress {
    /// Bars if `enabled` and standard error is a terminal.
    pub(crate) fn new(enabled: bool) -> Progress {
        let multi = (enabled && std::io::stderr().is_terminal())
            .then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { multi }
    }

    /// The bar of chain `chain`, of `total` iterations.
    pub(crate) fn chain(&self, chain: usize, total: usize, warmup: usize) -> ChainBar {
        let bar = self.multi.as_ref().map(|m| {
            let style = ProgressStyle::with_template(
                "chain {prefix} {bar:30} {pos:>5}/{len} [{elapsed_precise}<{eta_precise}] {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar());
            let bar = m.add(ProgressBar::new(total as u64));
            bar.set_style(style);
            bar.set_prefix(chain.to_string());
            bar
        });
        ChainBar {
            bar,
            warmup,
            done: 0,
            since_message: 0,
            divergences: 0,
        }
    }
}

/// The bar of one chain (a no-op without a terminal).
pub(crate) struct ChainBar {
    bar: Option<ProgressBar>,
    warmup: usize,
    done: usize,
    since_message: usize,
    divergences: usize,
}

impl ChainBar {
    /// One iteration done.
    pub(crate) fn tick(&mut self, stats: &DrawStats) {
        let Some(bar) = &self.bar else { return };
        let warm = self.done < self.warmup;
        self.done += 1;
        if stats.diverging && !warm {
            self.divergences += 1;
        }
        bar.inc(1);
        // Messages allocate: refresh them at phase changes and every 20 iterations.
        self.since_message += 1;
        if self.since_message >= 20 || self.done == self.warmup || self.done == 1 {
            self.since_message = 0;
            bar.set_message(format!(
                "{} | step {:.2e} | {} steps | {} divergences",
                if warm { "warmup" } else { "sample" },
                stats.step_size,
                stats.num_steps,
                self.divergences
            ));
        }
    }

    /// The chain is done (or failed).
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}
