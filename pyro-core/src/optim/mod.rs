//! Placeholder until the optimisers work lands.
#![allow(missing_docs)]
use crate::error::Result;

pub trait Optimizer: Send {
    fn update(&mut self, index: usize, name: &str, value: &mut [f64], grad: &[f64]);
    fn begin_step(&mut self) {}
    fn state(&self) -> serde_json::Value {
        serde_json::Value::Null
    }
    fn load_state(&mut self, state: &serde_json::Value) -> Result<()> {
        let _ = state;
        Ok(())
    }
}

#[derive(Clone, Debug)]
pub struct AdamConfig {
    pub lr: f64,
    pub betas: (f64, f64),
    pub eps: f64,
    pub weight_decay: f64,
}
impl Default for AdamConfig {
    fn default() -> Self {
        AdamConfig {
            lr: 1e-3,
            betas: (0.9, 0.999),
            eps: 1e-8,
            weight_decay: 0.0,
        }
    }
}
/// Step count and first and second moment estimates of one parameter.
type AdamState = (u64, Vec<f64>, Vec<f64>);

pub struct Adam {
    cfg: AdamConfig,
    state: Vec<Option<AdamState>>,
}
impl Adam {
    pub fn new(cfg: AdamConfig) -> Adam {
        Adam {
            cfg,
            state: Vec::new(),
        }
    }
}
impl Optimizer for Adam {
    fn update(&mut self, index: usize, _name: &str, value: &mut [f64], grad: &[f64]) {
        if self.state.len() <= index {
            self.state.resize_with(index + 1, || None);
        }
        let st = self.state[index]
            .get_or_insert_with(|| (0, vec![0.0; value.len()], vec![0.0; value.len()]));
        st.0 += 1;
        let (b1, b2) = self.cfg.betas;
        let bc1 = 1.0 - b1.powi(st.0 as i32);
        let bc2 = 1.0 - b2.powi(st.0 as i32);
        for i in 0..value.len() {
            let g = grad[i];
            st.1[i] = b1 * st.1[i] + (1.0 - b1) * g;
            st.2[i] = b2 * st.2[i] + (1.0 - b2) * g * g;
            let denom = (st.2[i] / bc2).sqrt() + self.cfg.eps;
            value[i] -= self.cfg.lr / bc1 * st.1[i] / denom;
        }
    }
}
