//! `scale` and `mask`: multiply or mask the log-density of the sites inside.

use super::{Message, Messenger};
use crate::tensor::Tensor;

/// Multiplies the log-density of every sample site inside by a factor (e.g. to rescale a
/// minibatch likelihood).
#[derive(Debug, Clone, Copy)]
pub struct ScaleMessenger(pub f64);

impl Messenger for ScaleMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        msg.scale *= self.0;
    }
}

/// Masks the log-density of every sample site inside with a 0/1 tensor, broadcast against the
/// site's batch shape.
#[derive(Debug, Clone)]
pub struct MaskMessenger(pub Tensor);

impl Messenger for MaskMessenger {
    fn process_message(&mut self, msg: &mut Message) {
        let m = self.0.detach();
        msg.mask = Some(match msg.mask.take() {
            Some(old) => old.mul(&m),
            None => m,
        });
    }
}
