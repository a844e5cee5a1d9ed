//! Checkpoints: non-finite values round-trip, crafted shapes are errors, concurrent saves all
//! succeed and readers never see a partial file, a process killed mid-save never loses the old
//! file, stale temporary files are cleaned up.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use pyro::params::ParamStore;
use pyro::prelude::*;

use super::data::tmp_dir;

fn store_with(values: &[f64]) -> ParamStore {
    let mut s = ParamStore::new();
    s.insert("w", Tensor::from(values.to_vec()), constraints::real())
        .unwrap();
    s.insert("scale", Tensor::from(2.5), constraints::positive())
        .unwrap();
    s
}

fn bits(s: &ParamStore, name: &str) -> Vec<u64> {
    s.unconstrained(name)
        .unwrap()
        .to_vec()
        .unwrap()
        .iter()
        .map(|x| {
            if x.is_nan() {
                f64::NAN.to_bits()
            } else {
                x.to_bits()
            }
        })
        .collect()
}

#[test]
fn non_finite_values_round_trip() {
    let dir = tmp_dir("nonfinite");
    let path = dir.join("ck.json");
    let values = [
        1.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        -0.0,
        5e-324,
        f64::MAX,
    ];
    let s = store_with(&values);
    s.save(&path).unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains(r#""inf""#) && text.contains(r#""-inf""#),
        "{text}"
    );
    assert!(!text.contains("[null") && !text.contains(",null"), "{text}");
    let mut back = ParamStore::new();
    back.load(&path).unwrap();
    assert_eq!(bits(&back, "w"), bits(&s, "w"));
    // NaN, written by hand as the format documents it.
    std::fs::write(
        &path,
        r#"{"format":"pyro-rs-checkpoint","version":2,"params":[{"name":"w","constraint":"Real","shape":[2],"unconstrained":["nan", 1]}]}"#,
    )
    .unwrap();
    back.load(&path).unwrap();
    let w = back.unconstrained("w").unwrap().to_vec().unwrap();
    assert!(w[0].is_nan() && w[1] == 1.0);
    // Anything else in a value array is an error naming the file.
    std::fs::write(
        &path,
        r#"{"format":"pyro-rs-checkpoint","version":2,"params":[{"name":"w","constraint":"Real","shape":[1],"unconstrained":[null]}]}"#,
    )
    .unwrap();
    let e = back.load(&path).unwrap_err().to_string();
    assert!(e.contains("ck.json") && e.contains("inf"), "{e}");
}

#[test]
fn an_optimiser_state_with_infinities_round_trips_through_a_checkpoint() {
    use pyro::optim::Optimizer;
    let mut adam = Adam::new(AdamConfig::default());
    let mut x = vec![1.0, 2.0];
    adam.begin_step();
    adam.update(0, "x", &mut x, &[1e160, 1.0]);
    let state = adam.state();
    let text = state.to_string();
    assert!(text.contains(r#""inf""#), "{text}");
    let mut again = Adam::new(AdamConfig::default());
    again.load_state(&text.parse().unwrap()).unwrap();
    assert_eq!(again.state(), state);
}

#[test]
fn crafted_shapes_are_errors() {
    let dir = tmp_dir("crafted");
    let path = dir.join("ck.json");
    for (shape, values) in [
        ("[65536, 3, 281474976710656]", "[]"),
        ("[18446744073709551615, 2]", "[]"),
        ("[0, 4611686018427387904, 4611686018427387904]", "[]"),
        ("[2, 2]", "[1, 2, 3]"),
        ("[3]", "[1, 2]"),
    ] {
        std::fs::write(
            &path,
            format!(
                r#"{{"format":"pyro-rs-checkpoint","version":2,"params":[{{"name":"w","constraint":"Real","shape":{shape},"unconstrained":{values}}}]}}"#
            ),
        )
        .unwrap();
        let mut s = store_with(&[1.0]);
        let e = s.load(&path).unwrap_err();
        assert!(matches!(e, Error::File { .. }), "{e:?}");
        assert!(e.to_string().contains("`w`"), "{e}");
        // The store is untouched.
        assert_eq!(s.unconstrained("w").unwrap().to_vec().unwrap(), [1.0]);
    }
    // The path of issue #10 (load, get, matmul) on a valid file of the same kind works.
    std::fs::write(
        &path,
        r#"{"format":"pyro-rs-checkpoint","version":1,"params":[{"name":"w","constraint":"Real","shape":[2,2],"unconstrained":[1,2,3,4]}],"optimizer":null}"#,
    )
    .unwrap();
    let mut s = ParamStore::new();
    s.load(&path).unwrap();
    let w = s.get("w").unwrap();
    assert_eq!(w.matmul(&w).to_vec().unwrap(), [7.0, 10.0, 15.0, 22.0]);
}

/// A store of `n` values that encode `k` (every value is `k + i / n`), to tell versions apart.
fn versioned(k: usize, n: usize) -> ParamStore {
    let mut s = ParamStore::new();
    let v: Vec<f64> = (0..n).map(|i| k as f64 + i as f64 / n as f64).collect();
    s.insert("w", Tensor::from(v), constraints::real()).unwrap();
    s
}

/// The version a loaded store holds, checking that it is a whole, consistent one.
fn version_of(s: &ParamStore, n: usize) -> usize {
    let v = s.unconstrained("w").unwrap().to_vec().unwrap();
    assert_eq!(v.len(), n);
    let k = v[0] as usize;
    for (i, x) in v.iter().enumerate() {
        assert_eq!(*x, k as f64 + i as f64 / n as f64, "a mixed file");
    }
    k
}

#[test]
fn concurrent_saves_to_one_path_all_succeed_and_readers_see_whole_files() {
    let dir = tmp_dir("threads");
    let path = dir.join("ck.json");
    let n = 2000;
    versioned(0, n).save(&path).unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let reader = {
        let (path, done) = (path.clone(), done.clone());
        std::thread::spawn(move || {
            let mut reads = 0;
            while !done.load(Ordering::Relaxed) || reads == 0 {
                let mut s = ParamStore::new();
                s.load(&path).expect("a reader saw a broken file");
                version_of(&s, n);
                reads += 1;
            }
            reads
        })
    };
    let writers: Vec<_> = (1..=8)
        .map(|t| {
            let path = path.clone();
            std::thread::spawn(move || {
                for k in 0..40 {
                    versioned(t * 1000 + k, n).save(&path).unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.join().expect("a save failed");
    }
    done.store(true, Ordering::Relaxed);
    assert!(reader.join().unwrap() > 0);
    let mut s = ParamStore::new();
    s.load(&path).unwrap();
    assert_eq!(
        version_of(&s, n) % 1000,
        39,
        "the last save of some thread wins"
    );
    // No temporary file is left behind.
    let left: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(left, [std::ffi::OsString::from("ck.json")], "{left:?}");
}

#[test]
fn stale_temporary_files_are_removed_and_fresh_ones_kept() {
    let dir = tmp_dir("stale");
    let path = dir.join("ck.json");
    let old = dir.join(".ck.json.pyro-tmp-AAAAAA");
    let fresh = dir.join(".ck.json.pyro-tmp-BBBBBB");
    let other = dir.join(".other.json.pyro-tmp-CCCCCC");
    for p in [&old, &fresh, &other] {
        std::fs::write(p, b"partial").unwrap();
    }
    let two_hours_ago = SystemTime::now() - Duration::from_secs(7200);
    for p in [&old, &other] {
        std::fs::File::options()
            .write(true)
            .open(p)
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
    }
    versioned(1, 10).save(&path).unwrap();
    assert!(
        !old.exists(),
        "a stale temporary file of this target is removed"
    );
    assert!(fresh.exists(), "a recent one may be a save in progress");
    assert!(other.exists(), "another target's files are not touched");
}

/// Run by [`a_process_killed_while_saving_never_loses_the_old_file`] in a child process: saves
/// large checkpoints to the path in `PYRO_KILL_TARGET` until killed.
#[test]
#[ignore = "run as a child process by a_process_killed_while_saving_never_loses_the_old_file"]
fn child_saves_until_killed() {
    let Ok(path) = std::env::var("PYRO_KILL_TARGET") else {
        return;
    };
    let n: usize = std::env::var("PYRO_KILL_N").unwrap().parse().unwrap();
    for k in 1.. {
        versioned(k, n).save(Path::new(&path)).unwrap();
    }
}

#[test]
fn a_process_killed_while_saving_never_loses_the_old_file() {
    let dir = tmp_dir("sigkill");
    let path = dir.join("ck.json");
    // ~2 MB of JSON: a save takes long enough to be killed in the middle of it.
    let n = 100_000;
    versioned(0, n).save(&path).unwrap();
    let exe = std::env::current_exe().unwrap();
    let mut last = 0;
    for round in 0..12u64 {
        let mut child = std::process::Command::new(&exe)
            .args([
                "--exact",
                "checkpoint::child_saves_until_killed",
                "--ignored",
                "--test-threads=1",
            ])
            .env("PYRO_KILL_TARGET", &path)
            .env("PYRO_KILL_N", n.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Kill at varied moments: before, during and between saves.
        std::thread::sleep(Duration::from_millis(60 + 37 * (round % 7)));
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        let mut s = ParamStore::new();
        s.load(&path)
            .unwrap_or_else(|e| panic!("round {round}: the checkpoint was lost: {e}"));
        last = last.max(version_of(&s, n));
    }
    // Orphaned temporary files: at most one per kill, and all recent (cleaned after an hour).
    let orphans = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .starts_with(".ck.json.pyro-tmp-")
        })
        .count();
    assert!(orphans <= 12, "{orphans} orphans");
    // The children did replace the file: the kills hit a process that was saving.
    assert!(
        last > 0,
        "no child save completed: the test killed nothing in progress"
    );
}

/// A checkpoint gets the permissions of an ordinary new file (`File::create`: 0o666 less the
/// umask), not a temporary file's owner-only 0o600, in every format; one that replaces a file
/// keeps that file's permissions.
#[cfg(unix)]
#[test]
fn checkpoints_have_an_ordinary_files_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o7777;
    let dir = tmp_dir("permissions");
    let plain = dir.join("plain");
    std::fs::File::create(&plain).unwrap();
    let expected = mode(&plain);
    let s = store_with(&[1.0, 2.0]);
    let json = dir.join("ck.json");
    let st = dir.join("ck.safetensors");
    s.save(&json).unwrap();
    s.save_safetensors(&st, pyro::params::Dtype::F32).unwrap();
    assert_eq!(mode(&json), expected, "JSON checkpoint");
    assert_eq!(mode(&st), expected, "safetensors checkpoint");

    std::fs::set_permissions(&json, std::fs::Permissions::from_mode(0o640)).unwrap();
    s.save(&json).unwrap();
    assert_eq!(
        mode(&json),
        0o640,
        "a replaced checkpoint keeps its permissions"
    );
}
