//! Compile-time behaviour of the macros: `tests/ui/pass` must compile; each file in
//! `tests/ui/fail` must fail with exactly the error pinned in its `.stderr`.
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui` and read every `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
