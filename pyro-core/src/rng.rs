//! The random number generator. Every random draw in pyro-rs goes through one seeded generator
//! owned by the inference object (or by a `seed` handler): runs are reproducible from a seed.
//!
//! The generator is ChaCha with 12 rounds from `rand_chacha`, named explicitly rather than
//! through `rand::rngs::StdRng`: `StdRng` may change algorithm between `rand` releases, while a
//! `ChaCha12Rng` stream is fixed by its algorithm, so a seed reproduces a run across upgrades.
//! (It is the algorithm behind `StdRng` in `rand` 0.9, so streams seeded before this choice are
//! unchanged.) Its whole state is small (seed, stream, position) and is saved with checkpoints
//! ([`RngState`]) so that a resumed run continues the same stream bit for bit.

use rand::SeedableRng;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The generator type used throughout pyro-rs.
pub type Rng = rand_chacha::ChaCha12Rng;

/// A generator from a seed (`SeedableRng::seed_from_u64`, whose expansion of the seed is
/// documented as portable).
pub fn rng_from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}

const ALGORITHM: &str = "ChaCha12";

/// The complete state of a [`Rng`], as saved in a checkpoint: the 256-bit key (hex), the stream
/// number and the position in the stream (in 32-bit words, as a decimal string since it is a
/// `u128`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RngState {
    /// Always `"ChaCha12"`.
    pub algorithm: String,
    /// The key, 64 hex digits.
    pub seed: String,
    /// The stream number.
    pub stream: u64,
    /// The position in the stream, in 32-bit words (decimal).
    pub word_pos: String,
}

impl RngState {
    /// The state of `rng`.
    pub fn of(rng: &Rng) -> RngState {
        RngState {
            algorithm: ALGORITHM.to_string(),
            seed: rng.get_seed().iter().map(|b| format!("{b:02x}")).collect(),
            stream: rng.get_stream(),
            word_pos: rng.get_word_pos().to_string(),
        }
    }

    /// The generator in this state; an error saying which field is malformed.
    pub fn restore(&self) -> Result<Rng> {
        if self.algorithm != ALGORITHM {
            return Err(Error::Invalid(format!(
                "random generator state: algorithm `{}`, expected `{ALGORITHM}`",
                self.algorithm
            )));
        }
        let bad = |what: &str| Error::Invalid(format!("random generator state: invalid {what}"));
        let hex = self.seed.as_bytes();
        if hex.len() != 64 || !hex.iter().all(u8::is_ascii_hexdigit) {
            return Err(bad("seed (expected 64 hex digits)"));
        }
        let mut seed = [0u8; 32];
        for (i, b) in seed.iter_mut().enumerate() {
            *b = u8::from_str_radix(&self.seed[2 * i..2 * i + 2], 16)
                .map_err(|_| bad("seed (expected 64 hex digits)"))?;
        }
        let pos: u128 = self
            .word_pos
            .parse()
            .map_err(|_| bad("word_pos (expected a decimal number)"))?;
        // The position counts words in a stream of 2^64 blocks of 16 words.
        if pos >= 1u128 << 68 {
            return Err(bad("word_pos (beyond the end of the stream)"));
        }
        let mut rng = Rng::from_seed(seed);
        rng.set_stream(self.stream);
        rng.set_word_pos(pos);
        Ok(rng)
    }
}
