//! Procedural macros of pyro-rs (placeholder; filled in by the macros work).
