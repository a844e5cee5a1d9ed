//! `seed`: draws the sites inside from a generator of its own.

use super::{Message, Messenger};
use crate::rng::{rng_from_seed, Rng};

/// Draws every unobserved sample site inside from its own seeded generator, so that the draws
/// inside do not depend on (or disturb) the context's generator.
#[derive(Debug)]
pub struct SeedMessenger {
    rng: Rng,
}

impl SeedMessenger {
    /// A handler with a generator seeded by `seed`.
    pub fn new(seed: u64) -> SeedMessenger {
        SeedMessenger {
            rng: rng_from_seed(seed),
        }
    }
}

impl Messenger for SeedMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        if msg.value.is_some() {
            return;
        }
        if let Some(d) = &msg.dist {
            match super::context::draw(d.as_ref(), &mut self.rng) {
                Ok(v) => msg.value = Some(v),
                Err(e) => msg.error = Some(e),
            }
        }
    }
}
