//! Site names that cost no heap allocation on the hot path.
//!
//! A model runs every SVI step, and every `sample!` names its site. A literal name is a
//! `&'static str`; a name built at run time (`format!("obs_{i}")`) used to be a fresh `String`
//! per site per step, cloned again into each trace. [`SiteName`] keeps a literal as it is, a
//! short run-time name (up to 22 bytes, which covers `obs_123456` and most generated names) inline,
//! and a longer one behind an `Arc<str>`, so that building and cloning a name never allocates for
//! literals or short names, and clones of long names only bump a count. The macros turn
//! `sample!(format!(...), ..)` into [`SiteName::from_args`], which formats straight into the
//! inline buffer.

use std::borrow::{Borrow, Cow};
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::Deref;
use std::sync::Arc;

/// Longest name kept inline.
const INLINE: usize = 22;

/// The name of a sample, param or plate site: a `&'static str`, a short inline string or a shared
/// `Arc<str>`. It dereferences to `str` and compares, hashes and prints as one.
///
/// ```
/// use pyro_core::trace::SiteName;
/// let a: SiteName = "z".into();
/// let b = SiteName::from_args(format_args!("obs_{}", 3));
/// assert_eq!(a, "z");
/// assert_eq!(&*b, "obs_3");
/// assert_eq!(b, SiteName::from(String::from("obs_3")));
/// ```
#[derive(Clone)]
pub struct SiteName(Repr);

#[derive(Clone)]
enum Repr {
    Static(&'static str),
    Inline { len: u8, buf: [u8; INLINE] },
    Shared(Arc<str>),
}

impl SiteName {
    /// A name from a string literal (no copy).
    pub const fn new_static(s: &'static str) -> SiteName {
        SiteName(Repr::Static(s))
    }

    /// A name from formatting arguments (`format_args!`), written straight into the inline
    /// buffer when it fits: `format!` without the `String`.
    pub fn from_args(args: fmt::Arguments<'_>) -> SiteName {
        if let Some(s) = args.as_str() {
            return SiteName::from(s);
        }
        let mut w = InlineWriter {
            len: 0,
            buf: [0; INLINE],
            spill: None,
        };
        // Writing into memory cannot fail except through a `Display` impl that errors, which
        // `format!` would turn into a panic; here the name is simply cut where it failed.
        let _ = fmt::write(&mut w, args);
        match w.spill {
            Some(s) => SiteName(Repr::Shared(Arc::from(s))),
            None => SiteName(Repr::Inline {
                len: w.len as u8,
                buf: w.buf,
            }),
        }
    }

    /// The name as a string slice.
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Repr::Static(s) => s,
            Repr::Inline { len, buf } => {
                // SAFETY: only whole `str`s are ever copied into `buf[..len]` (see `from_str_ref`
                // and `InlineWriter::write_str`), so the bytes are valid UTF-8.
                unsafe { std::str::from_utf8_unchecked(&buf[..*len as usize]) }
            }
            Repr::Shared(s) => s,
        }
    }

    /// A name copied from a string slice (inline when short).
    pub fn new(s: &str) -> SiteName {
        SiteName::from_str_ref(s)
    }

    fn from_str_ref(s: &str) -> SiteName {
        if s.len() <= INLINE {
            let mut buf = [0; INLINE];
            buf[..s.len()].copy_from_slice(s.as_bytes());
            SiteName(Repr::Inline {
                len: s.len() as u8,
                buf,
            })
        } else {
            SiteName(Repr::Shared(Arc::from(s)))
        }
    }
}

/// Formats into the inline buffer, moving to a `String` once it overflows.
struct InlineWriter {
    len: usize,
    buf: [u8; INLINE],
    spill: Option<String>,
}

impl fmt::Write for InlineWriter {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(spill) = &mut self.spill {
            spill.push_str(s);
        } else if self.len + s.len() <= INLINE {
            self.buf[self.len..self.len + s.len()].copy_from_slice(s.as_bytes());
            self.len += s.len();
        } else {
            // SAFETY: `buf[..len]` holds whole `str`s (see `write_str`).
            let head = unsafe { std::str::from_utf8_unchecked(&self.buf[..self.len]) };
            let mut spill = String::with_capacity(2 * (self.len + s.len()));
            spill.push_str(head);
            spill.push_str(s);
            self.spill = Some(spill);
        }
        Ok(())
    }
}

impl Deref for SiteName {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for SiteName {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl Borrow<str> for SiteName {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl From<&'static str> for SiteName {
    fn from(s: &'static str) -> SiteName {
        SiteName::new_static(s)
    }
}

impl From<String> for SiteName {
    fn from(s: String) -> SiteName {
        SiteName::from_str_ref(&s)
    }
}

impl From<&String> for SiteName {
    fn from(s: &String) -> SiteName {
        SiteName::from_str_ref(s)
    }
}

impl From<Cow<'static, str>> for SiteName {
    fn from(s: Cow<'static, str>) -> SiteName {
        match s {
            Cow::Borrowed(s) => SiteName::new_static(s),
            Cow::Owned(s) => SiteName::from(s),
        }
    }
}

impl From<fmt::Arguments<'_>> for SiteName {
    fn from(args: fmt::Arguments<'_>) -> SiteName {
        SiteName::from_args(args)
    }
}

impl From<&SiteName> for SiteName {
    fn from(s: &SiteName) -> SiteName {
        s.clone()
    }
}

impl From<SiteName> for String {
    fn from(s: SiteName) -> String {
        s.as_str().to_owned()
    }
}

impl PartialEq for SiteName {
    fn eq(&self, other: &SiteName) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for SiteName {}

impl PartialEq<str> for SiteName {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for SiteName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for SiteName {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other.as_str()
    }
}

impl PartialEq<SiteName> for str {
    fn eq(&self, other: &SiteName) -> bool {
        self == other.as_str()
    }
}

impl PartialEq<SiteName> for &str {
    fn eq(&self, other: &SiteName) -> bool {
        *self == other.as_str()
    }
}

impl PartialOrd for SiteName {
    fn partial_cmp(&self, other: &SiteName) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SiteName {
    fn cmp(&self, other: &SiteName) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl Hash for SiteName {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // As `str` hashes, so that `HashMap<SiteName, _>` can be queried with a `&str`.
        self.as_str().hash(state)
    }
}

impl fmt::Display for SiteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SiteName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Default for SiteName {
    fn default() -> SiteName {
        SiteName::new_static("")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_long_and_static_names_agree_with_their_strings() {
        let long = "a_site_name_longer_than_twenty_two_bytes";
        for s in ["", "z", "obs_9", "exactly_22_bytes_long_", long] {
            let owned = SiteName::from(s.to_string());
            let fmt =
                SiteName::from_args(format_args!("{}{}", &s[..s.len() / 2], &s[s.len() / 2..]));
            assert_eq!(owned, s);
            assert_eq!(fmt, s);
            assert_eq!(SiteName::from(s), fmt);
            assert_eq!(fmt.to_string(), s);
        }
        assert!(matches!(
            SiteName::from(long.to_string()).0,
            Repr::Shared(_)
        ));
        let i = std::hint::black_box(12);
        assert!(matches!(
            SiteName::from_args(format_args!("obs_{i}")).0,
            Repr::Inline { .. }
        ));
        // A name that overflows the inline buffer half way through formatting.
        let n = SiteName::from_args(format_args!("{}_{}", "x".repeat(20), 123_456));
        assert_eq!(&*n, format!("{}_123456", "x".repeat(20)));
    }

    #[test]
    fn hashes_like_str() {
        use std::collections::HashMap;
        let mut m: HashMap<SiteName, usize> = HashMap::new();
        m.insert(SiteName::from_args(format_args!("obs_{}", 1)), 1);
        assert_eq!(m.get("obs_1"), Some(&1));
    }
}
