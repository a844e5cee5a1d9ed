//! The static description of a model or guide: which sites it may have, under what names, and in
//! what role. `#[model]` and `#[guide]` write it as [`Model::SITES`](super::Model::SITES), a
//! `const` on the function's type, and `#[guide(model = M)]` compares the two descriptions with
//! the `const fn`s of this module: rustc evaluates the comparison while compiling, so a guide that
//! misses a latent site of its model, or samples a site its model does not have, is a compile
//! error (a const-evaluation panic whose message names the site, the guide and the model).
//!
//! Because the description lives on the model's *type*, the guide finds it like any other path:
//! through `use`, `use .. as ..`, `super::`, and from other crates. A name built at run time
//! narrows the check instead of switching it off: `format!("x_{i}")` becomes the pattern "any
//! name starting with `x_`", and only sites matching it are taken as possibly present. What the
//! description cannot decide (names from local variables, sub-models that are not paths, models
//! implemented by hand) is checked when inference runs, by the same rules.
//!
//! ```
//! use pyro_core::infer::description::{check_missing_sites, NamePattern, SiteDesc, SiteRole};
//!
//! const MODEL: &[SiteDesc] = &[
//!     SiteDesc::site(NamePattern::Exact("z"), SiteRole::Latent),
//!     SiteDesc::site(NamePattern::Prefix("obs_"), SiteRole::Observed),
//! ];
//! const GUIDE: &[SiteDesc] = &[SiteDesc::site(NamePattern::Exact("loc"), SiteRole::Latent)];
//! const REPORT: &str = check_missing_sites("m", MODEL, "g", GUIDE).as_str();
//! assert_eq!(REPORT, "guide `g` does not sample site \"z\" of model `m`");
//! ```

use super::SubModel;

/// A site name as far as it is known at compile time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NamePattern {
    /// A name known exactly: a literal, a `const`, a `concat!`.
    Exact(&'static str),
    /// A name built at run time that starts with this literal text (`format!("x_{i}")` gives
    /// `"x_"`; a name from a variable gives `""`, which matches every name).
    Prefix(&'static str),
}

impl NamePattern {
    /// Whether some name matches both patterns.
    pub const fn intersects(self, other: NamePattern) -> bool {
        match (self, other) {
            (NamePattern::Exact(a), NamePattern::Exact(b)) => str_eq(a, b),
            (NamePattern::Exact(a), NamePattern::Prefix(p))
            | (NamePattern::Prefix(p), NamePattern::Exact(a)) => starts_with(a, p),
            (NamePattern::Prefix(p), NamePattern::Prefix(q)) => {
                starts_with(p, q) || starts_with(q, p)
            }
        }
    }

    /// Whether the pattern is an exact name.
    pub const fn is_exact(self) -> bool {
        matches!(self, NamePattern::Exact(_))
    }
}

/// What a site is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SiteRole {
    /// `sample!(name, dist)`: a random variable that the guide must sample.
    Latent,
    /// `sample!(name, dist, enumerate)`: a discrete latent summed out by the ELBO; the guide must
    /// not sample it.
    Enumerated,
    /// `sample!(name, dist, obs = value)`: observed data; the guide must not sample it.
    Observed,
    /// `sample!(name, dist, obs = y)` with `y` an `Option` (Pyro's `obs=None`): observed when
    /// `Some`, latent when `None`. The guide may sample it, and need not; whether it must (the
    /// runs where `y` is `None`) is checked when inference runs, and that error says so.
    MaybeObserved,
    /// `factor!(name, log_density)`: a term of the log-density, not a random variable.
    Factor,
    /// `deterministic!(name, value)`: a recorded value, not a random variable.
    Deterministic,
    /// Not known at compile time (a model implemented by hand, or a sub-model that is not named
    /// by a path): may be any of the above.
    Unknown,
}

/// One entry of a description: a site, or the whole description of a model run with `call!`.
#[derive(Clone, Copy, Debug)]
pub enum SiteDesc {
    /// A site of the function itself.
    Site {
        /// Its name.
        name: NamePattern,
        /// Its role.
        role: SiteRole,
    },
    /// The sites of a sub-model run with `call!(sub, ..)`.
    Call {
        /// The sub-model's name (its `Model::NAME`), for messages.
        model: &'static str,
        /// The sub-model's description (its `Model::SITES`).
        sites: &'static [SiteDesc],
    },
}

impl SiteDesc {
    /// The description of a function that is not known at compile time: any site, in any role.
    /// The default of [`Model::SITES`](super::Model::SITES).
    pub const UNKNOWN: SiteDesc = SiteDesc::Site {
        name: NamePattern::Prefix(""),
        role: SiteRole::Unknown,
    };

    /// A site.
    pub const fn site(name: NamePattern, role: SiteRole) -> SiteDesc {
        SiteDesc::Site { name, role }
    }

    /// The sites of sub-model `model` (its `NAME` and `SITES`), run with `call!`.
    pub const fn call(model: &'static str, sites: &'static [SiteDesc]) -> SiteDesc {
        SiteDesc::Call { model, sites }
    }

    /// The sites of the sub-model `model` (a value: a unit struct, a `const`), run with
    /// `call!(model, ..)`.
    ///
    /// The bound is [`SubModel`]: the code generated for `call!` writes this
    /// same call, with the same spans, in the model's body, its description and its guide's
    /// checks, so that rustc reports a `call!` of something that is not a model once.
    pub const fn call_of<M: SubModel>(model: &M) -> SiteDesc {
        let _ = model;
        SiteDesc::Call {
            model: M::NAME,
            sites: M::SITES,
        }
    }
}

/// The result of a comparison: empty when the descriptions agree, otherwise the message of the
/// compile error. A fixed buffer, so that it can be built by a `const fn`.
#[derive(Clone, Copy, Debug)]
pub struct Report {
    buf: [u8; REPORT_CAPACITY],
    len: usize,
    truncated: bool,
}

const REPORT_CAPACITY: usize = 1024;

impl Report {
    /// An empty report.
    pub const fn new() -> Report {
        Report {
            buf: [0; REPORT_CAPACITY],
            len: 0,
            truncated: false,
        }
    }

    /// Whether nothing was reported.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The message.
    pub const fn as_str(&self) -> &str {
        let (text, _) = self.buf.split_at(self.len);
        match core::str::from_utf8(text) {
            Ok(s) => s,
            // Unreachable: only whole `str`s are appended.
            Err(_) => "the guide does not match its model",
        }
    }

    /// Appends `s`, or `...` when it does not fit.
    const fn push(mut self, s: &str) -> Report {
        let bytes = s.as_bytes();
        if self.truncated {
            return self;
        }
        // Room is kept for the `...` that marks a cut: only whole `str`s are appended, so the
        // text stays valid UTF-8.
        if self.len + bytes.len() > REPORT_CAPACITY - 3 {
            self.buf[self.len] = b'.';
            self.buf[self.len + 1] = b'.';
            self.buf[self.len + 2] = b'.';
            self.len += 3;
            self.truncated = true;
            return self;
        }
        let mut i = 0;
        while i < bytes.len() {
            self.buf[self.len + i] = bytes[i];
            i += 1;
        }
        self.len += bytes.len();
        self
    }

    /// Appends a pattern as the user would read it: `"z"`, or `"x_..."` for a prefix.
    const fn push_pattern(self, p: NamePattern) -> Report {
        match p {
            NamePattern::Exact(s) => self.push("\"").push(s).push("\""),
            NamePattern::Prefix(s) => self.push("\"").push(s).push("...\""),
        }
    }
}

impl Default for Report {
    fn default() -> Self {
        Report::new()
    }
}

/// Whether `name` matches `p`.
const fn matches_name(p: NamePattern, name: &str) -> bool {
    match p {
        NamePattern::Exact(e) => str_eq(e, name),
        NamePattern::Prefix(q) => starts_with(name, q),
    }
}

const fn str_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

const fn starts_with(s: &str, prefix: &str) -> bool {
    let (s, p) = (s.as_bytes(), prefix.as_bytes());
    if p.len() > s.len() {
        return false;
    }
    let mut i = 0;
    while i < p.len() {
        if s[i] != p[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Whether some site of `guide` (sub-guides included) may be the latent site `name`.
const fn guide_covers(guide: &[SiteDesc], name: &str) -> bool {
    let mut i = 0;
    while i < guide.len() {
        match guide[i] {
            SiteDesc::Site { name: p, role } => {
                // A guide's enumerated sites are sampled too (by enumeration); its observed,
                // factor and deterministic sites are not samples of a latent variable.
                let samples = matches!(
                    role,
                    SiteRole::Latent
                        | SiteRole::Enumerated
                        | SiteRole::MaybeObserved
                        | SiteRole::Unknown
                );
                if samples && matches_name(p, name) {
                    return true;
                }
            }
            SiteDesc::Call { sites, .. } => {
                if guide_covers(sites, name) {
                    return true;
                }
            }
        }
        i += 1;
    }
    false
}

/// Missing latent sites found so far.
#[derive(Clone, Copy)]
struct Missing {
    report: Report,
    count: usize,
}

const fn collect_missing(
    model: &[SiteDesc],
    via: Option<&'static str>,
    guide: &[SiteDesc],
    mut acc: Missing,
) -> Missing {
    let mut i = 0;
    while i < model.len() {
        match model[i] {
            SiteDesc::Site {
                name: NamePattern::Exact(name),
                role: SiteRole::Latent,
            } => {
                if !guide_covers(guide, name) && !already_listed(model, i, name) {
                    acc.report = if acc.count == 0 {
                        acc.report
                    } else {
                        acc.report.push(", ")
                    };
                    acc.report = acc.report.push_pattern(NamePattern::Exact(name));
                    if let Some(sub) = via {
                        acc.report = acc.report.push(" (in `").push(sub).push("`)");
                    }
                    acc.count += 1;
                }
            }
            SiteDesc::Site { .. } => {}
            SiteDesc::Call { model: sub, sites } => {
                acc = collect_missing(sites, Some(sub), guide, acc);
            }
        }
        i += 1;
    }
    acc
}

/// Whether an earlier entry of `sites` is the same latent name (a site in two branches of an
/// `if` is listed once in a message).
const fn already_listed(sites: &[SiteDesc], before: usize, name: &str) -> bool {
    let mut i = 0;
    while i < before {
        if let SiteDesc::Site {
            name: NamePattern::Exact(n),
            role: SiteRole::Latent,
        } = sites[i]
        {
            if str_eq(n, name) {
                return true;
            }
        }
        i += 1;
    }
    false
}

/// Every latent site of the model with a known name must be sampled by the guide (a guide site
/// with a run-time name counts for the names it can take). Returns an empty report when it is,
/// else the message naming the sites, the guide and the model.
pub const fn check_missing_sites(
    model_name: &str,
    model: &[SiteDesc],
    guide_name: &str,
    guide: &[SiteDesc],
) -> Report {
    let found = collect_missing(
        model,
        None,
        guide,
        Missing {
            report: Report::new(),
            count: 0,
        },
    );
    if found.count == 0 {
        return Report::new();
    }
    let head = Report::new()
        .push("guide `")
        .push(guide_name)
        .push(if found.count == 1 {
            "` does not sample site "
        } else {
            "` does not sample sites "
        });
    head.push(found.report.as_str())
        .push(" of model `")
        .push(model_name)
        .push("`")
}

/// What the model has under the names of one guide site.
#[derive(Clone, Copy)]
struct Matches {
    latent: bool,
    enumerated: Option<NamePattern>,
    observed: Option<NamePattern>,
    factor: Option<NamePattern>,
    deterministic: Option<NamePattern>,
}

/// The pattern to name in a message: an exact one once seen.
const fn prefer_exact(seen: Option<NamePattern>, new: NamePattern) -> Option<NamePattern> {
    match seen {
        Some(p) if p.is_exact() => Some(p),
        _ => Some(new),
    }
}

const fn classify(model: &[SiteDesc], site: NamePattern, mut m: Matches) -> Matches {
    let mut i = 0;
    while i < model.len() {
        match model[i] {
            SiteDesc::Site { name, role } => {
                if name.intersects(site) {
                    match role {
                        SiteRole::Latent | SiteRole::MaybeObserved | SiteRole::Unknown => {
                            m.latent = true
                        }
                        SiteRole::Enumerated => m.enumerated = prefer_exact(m.enumerated, name),
                        SiteRole::Observed => m.observed = prefer_exact(m.observed, name),
                        SiteRole::Factor => m.factor = prefer_exact(m.factor, name),
                        SiteRole::Deterministic => {
                            m.deterministic = prefer_exact(m.deterministic, name)
                        }
                    }
                }
            }
            SiteDesc::Call { sites, .. } => m = classify(sites, site, m),
        }
        i += 1;
    }
    m
}

/// One guide site against the model: it must be able to be a latent site of the model (not
/// enumerated, observed, a factor or a deterministic site, nor absent).
const fn check_one(
    model_name: &str,
    model: &[SiteDesc],
    guide_name: &str,
    site: NamePattern,
    via: Option<&'static str>,
) -> Report {
    let m = classify(
        model,
        site,
        Matches {
            latent: false,
            enumerated: None,
            observed: None,
            factor: None,
            deterministic: None,
        },
    );
    if m.latent {
        return Report::new();
    }
    let mut r = Report::new()
        .push("guide `")
        .push(guide_name)
        .push("` samples ");
    r = match site {
        NamePattern::Exact(_) => r.push("site "),
        NamePattern::Prefix(_) => r.push("sites named "),
    };
    r = r.push_pattern(site);
    if let Some(sub) = via {
        r = r.push(" (in `").push(sub).push("`)");
    }
    // (what the site is, as one site and as several, the model's pattern, what follows)
    let (one, several, found, why) = if let Some(p) = m.enumerated {
        (
            "enumerated in model `",
            "enumerated sites ",
            p,
            ": an enumerated site must not be sampled by the guide",
        )
    } else if let Some(p) = m.observed {
        ("observed in model `", "observed sites ", p, "")
    } else if let Some(p) = m.factor {
        (
            "a `factor!` term of model `",
            "`factor!` terms ",
            p,
            ", not a random variable",
        )
    } else if let Some(p) = m.deterministic {
        (
            "a `deterministic!` value of model `",
            "`deterministic!` values ",
            p,
            ", not a random variable",
        )
    } else {
        return r
            .push(", which model `")
            .push(model_name)
            .push("` does not have");
    };
    r = if found.is_exact() && site.is_exact() {
        r.push(", which is ").push(one)
    } else {
        r.push(", which can only be among the ")
            .push(several)
            .push_pattern(found)
            .push(" of model `")
    };
    r.push(model_name).push("`").push(why)
}

/// Every sample site of `guide_sites` (part of the guide's description, sub-guides included)
/// must be able to be a latent site of the model. Returns the first disagreement.
pub const fn check_guide_sites(
    model_name: &str,
    model: &[SiteDesc],
    guide_name: &str,
    guide_sites: &[SiteDesc],
) -> Report {
    check_sites_via(model_name, model, guide_name, guide_sites, None)
}

/// The sub-guides of a guide (the `Call` entries of its description) against the model: every
/// sample site of each must be able to be a latent site of the model. Returns the first
/// disagreement. (The guide's own sites are checked one by one, each with its own span.)
pub const fn check_guide_calls(
    model_name: &str,
    model: &[SiteDesc],
    guide_name: &str,
    guide: &[SiteDesc],
) -> Report {
    let mut i = 0;
    while i < guide.len() {
        if let SiteDesc::Call { model: sub, sites } = guide[i] {
            let r = check_sites_via(model_name, model, guide_name, sites, Some(sub));
            if !r.is_empty() {
                return r;
            }
        }
        i += 1;
    }
    Report::new()
}

const fn check_sites_via(
    model_name: &str,
    model: &[SiteDesc],
    guide_name: &str,
    guide_sites: &[SiteDesc],
    via: Option<&'static str>,
) -> Report {
    let mut i = 0;
    while i < guide_sites.len() {
        let r = match guide_sites[i] {
            SiteDesc::Site {
                name,
                role: SiteRole::Latent | SiteRole::MaybeObserved,
            } => check_one(model_name, model, guide_name, name, via),
            // Unknown sites, and sites a guide does not sample, are not checked here.
            SiteDesc::Site { .. } => Report::new(),
            SiteDesc::Call { model: sub, sites } => {
                check_sites_via(model_name, model, guide_name, sites, Some(sub))
            }
        };
        if !r.is_empty() {
            return r;
        }
        i += 1;
    }
    Report::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    const fn exact(n: &'static str, role: SiteRole) -> SiteDesc {
        SiteDesc::site(NamePattern::Exact(n), role)
    }
    const fn prefix(n: &'static str, role: SiteRole) -> SiteDesc {
        SiteDesc::site(NamePattern::Prefix(n), role)
    }

    #[test]
    fn patterns_intersect_when_some_name_matches_both() {
        use NamePattern::*;
        assert!(Exact("z").intersects(Exact("z")));
        assert!(!Exact("z").intersects(Exact("zz")));
        assert!(Exact("c_1").intersects(Prefix("c_")));
        assert!(!Exact("d_1").intersects(Prefix("c_")));
        assert!(Prefix("c").intersects(Prefix("c_")));
        assert!(!Prefix("a_").intersects(Prefix("b_")));
        assert!(Prefix("").intersects(Exact("anything")));
    }

    #[test]
    fn missing_latent_sites_are_listed_once_with_their_sub_model() {
        const SUB: &[SiteDesc] = &[exact("s", SiteRole::Latent)];
        const MODEL: &[SiteDesc] = &[
            exact("z", SiteRole::Latent),
            exact("z", SiteRole::Latent),
            exact("w", SiteRole::Latent),
            exact("b", SiteRole::Enumerated),
            exact("x", SiteRole::Observed),
            prefix("y_", SiteRole::Latent),
            SiteDesc::call("sub", SUB),
        ];
        let r = check_missing_sites("m", MODEL, "g", &[exact("w", SiteRole::Latent)]);
        assert_eq!(
            r.as_str(),
            "guide `g` does not sample sites \"z\", \"s\" (in `sub`) of model `m`"
        );
        // A run-time name in the guide covers the names it can take, no others.
        let r = check_missing_sites(
            "m",
            MODEL,
            "g",
            &[prefix("", SiteRole::Latent), exact("w", SiteRole::Latent)],
        );
        assert!(r.is_empty());
        let r = check_missing_sites(
            "m",
            MODEL,
            "g",
            &[prefix("z", SiteRole::Latent), exact("s", SiteRole::Latent)],
        );
        assert_eq!(
            r.as_str(),
            "guide `g` does not sample site \"w\" of model `m`"
        );
        // A guide implemented by hand covers everything.
        assert!(check_missing_sites("m", MODEL, "g", &[SiteDesc::UNKNOWN]).is_empty());
    }

    #[test]
    fn guide_sites_must_be_latent_in_the_model() {
        const MODEL: &[SiteDesc] = &[
            exact("z", SiteRole::Latent),
            exact("b", SiteRole::Enumerated),
            exact("x", SiteRole::Observed),
            prefix("obs_", SiteRole::Observed),
            exact("f", SiteRole::Factor),
            exact("d", SiteRole::Deterministic),
            prefix("c_", SiteRole::Latent),
        ];
        let check = |s: SiteDesc| check_guide_sites("m", MODEL, "g", &[s]);
        assert!(check(exact("z", SiteRole::Latent)).is_empty());
        assert!(check(exact("c_3", SiteRole::Latent)).is_empty());
        assert!(check(prefix("c_", SiteRole::Latent)).is_empty());
        // Observed run-time names never make a latent guide site acceptable.
        assert_eq!(
            check(exact("bogus", SiteRole::Latent)).as_str(),
            "guide `g` samples site \"bogus\", which model `m` does not have"
        );
        assert_eq!(
            check(exact("x", SiteRole::Latent)).as_str(),
            "guide `g` samples site \"x\", which is observed in model `m`"
        );
        assert_eq!(
            check(exact("obs_1", SiteRole::Latent)).as_str(),
            "guide `g` samples site \"obs_1\", which can only be among the observed sites \"obs_...\" of model `m`"
        );
        assert_eq!(
            check(exact("b", SiteRole::Latent)).as_str(),
            "guide `g` samples site \"b\", which is enumerated in model `m`: an enumerated site must not be sampled by the guide"
        );
        assert_eq!(
            check(exact("f", SiteRole::Latent)).as_str(),
            "guide `g` samples site \"f\", which is a `factor!` term of model `m`, not a random variable"
        );
        assert_eq!(
            check(exact("d", SiteRole::Latent)).as_str(),
            "guide `g` samples site \"d\", which is a `deterministic!` value of model `m`, not a random variable"
        );
        assert_eq!(
            check(prefix("q_", SiteRole::Latent)).as_str(),
            "guide `g` samples sites named \"q_...\", which model `m` does not have"
        );
        // A model implemented by hand accepts every guide site.
        assert!(check_guide_sites(
            "m",
            &[SiteDesc::UNKNOWN],
            "g",
            &[exact("q", SiteRole::Latent)]
        )
        .is_empty());
    }

    #[test]
    fn long_reports_are_cut_on_a_character_boundary() {
        let mut r = Report::new();
        for _ in 0..600 {
            r = r.push("é");
        }
        assert!(r.as_str().ends_with("..."));
        assert!(r.as_str().len() <= REPORT_CAPACITY);
    }
}
