//! Fixtures shared by several test files (`mod common;`). Cargo builds no test target from a
//! subfolder of `tests/`, so this is compiled only into the files that name it.

// Each test file uses a different part of the fixtures.
#![allow(dead_code)]

pub mod sharded_linreg;
