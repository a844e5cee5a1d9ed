//! The random number generator. Every random draw in pyro-rs goes through one seeded generator
//! owned by the inference object (or by a `seed` handler): runs are reproducible from a seed.

use rand::SeedableRng;

/// The generator type used throughout pyro-rs.
pub type Rng = rand::rngs::StdRng;

/// A generator from a seed.
pub fn rng_from_seed(seed: u64) -> Rng {
    Rng::seed_from_u64(seed)
}
