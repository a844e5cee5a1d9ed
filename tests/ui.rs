//! Compile-time behaviour of the macros: `tests/ui/pass` must compile; each file in
//! `tests/ui/fail` must fail with exactly the error pinned in its `.stderr`.
//! Regenerate with `TRYBUILD=overwrite cargo test --test ui` and read every `.stderr`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}

/// Compile errors never show a generated name: every pinned message is free of the macros'
/// hidden items (`__pyro_*`, `__private`), which a user could neither write nor look up.
#[test]
fn no_pinned_error_names_a_hidden_item() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui/fail");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "stderr") {
            let text = std::fs::read_to_string(&path).unwrap();
            for hidden in ["__pyro", "__private"] {
                assert!(
                    !text.contains(hidden),
                    "{} names `{hidden}`:\n{text}",
                    path.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 60, "only {checked} pinned messages found");
}
