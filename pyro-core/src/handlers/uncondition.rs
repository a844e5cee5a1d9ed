//! `uncondition`: observed sites are sampled afresh, as latent ones (posterior predictive).

use super::{Message, Messenger};
use crate::trace::SiteKind;

/// Turns observed sample sites back into sampled ones: their `obs =` value is ignored.
#[derive(Debug, Default, Clone, Copy)]
pub struct UnconditionMessenger;

impl Messenger for UnconditionMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.kind == SiteKind::Sample
            && msg.is_observed
            && msg
                .dist
                .as_ref()
                .is_some_and(|d| d.name() != "Factor" && d.name() != "Deterministic")
        {
            msg.value = None;
            msg.is_observed = false;
        }
    }
}
