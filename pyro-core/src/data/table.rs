//! Tables of data in CSV files (a header line, then one record per line), read with the `csv`
//! crate: quoted fields (`"Los Angeles, CA"`, `""` for a quote inside one), CRLF or LF line ends
//! and a UTF-8 byte-order mark are all read as RFC 4180 says. The file may be gzipped.
//!
//! ```
//! # fn main() -> pyro_core::Result<()> {
//! let dir = std::env::temp_dir().join(format!("pyro-table-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("schools.csv");
//! std::fs::write(&path, "school,est,se\r\n\"A, north\",28,15\r\nB,8,10\r\n").unwrap();
//! let t = pyro_core::data::load_table(&path)?;
//! assert_eq!(t.len(), 2);
//! assert_eq!(t.column_str("school")?, ["A, north", "B"]);
//! assert_eq!(t.column_f64("se")?, [15.0, 10.0]);
//! assert!(t.column_f64("rank").is_err()); // the error names the column and the file
//! # Ok(())
//! # }
//! ```

use std::path::{Path, PathBuf};

use super::mnist::read_maybe_gz;
use crate::error::{Error, Result};

/// The most bytes [`load_table`] reads from one (decompressed) file: 256 MiB. A CSV declares no
/// size, and a few kilobytes of gzip can otherwise expand to gigabytes.
pub const TABLE_MAX_BYTES: usize = 256 << 20;

/// A table read from a CSV file: column names and rows of text fields, every row as long as the
/// header. Typed columns are parsed on request, with errors that name the file, the line and the
/// column.
#[derive(Clone, Debug)]
pub struct Table {
    path: PathBuf,
    header: Vec<String>,
    /// `(line, fields)`: the line where each record starts in the file (1-based), for errors.
    rows: Vec<(u64, Vec<String>)>,
}

/// Loads a CSV table with a header line (see the module docs), from a plain or gzipped file of at
/// most [`TABLE_MAX_BYTES`]. Empty lines are skipped; a record whose field count differs from
/// the header's is an error naming its line.
pub fn load_table(path: impl AsRef<Path>) -> Result<Table> {
    let path = path.as_ref();
    let bytes = read_maybe_gz(path, TABLE_MAX_BYTES)?;
    let mut rows = Vec::new();
    let mut header = None;
    for_each_record(path, &bytes, |line, record| {
        match &header {
            None => header = Some(record),
            Some(h) => {
                if record.len() != h.len() {
                    return Err(Error::file(
                        path,
                        format!(
                            "line {line}: {} fields, the header has {}",
                            record.len(),
                            h.len()
                        ),
                    ));
                }
                rows.push((line, record));
            }
        }
        Ok(())
    })?;
    let header = header.ok_or_else(|| Error::file(path, "is empty: expected a header line"))?;
    let mut seen = std::collections::HashSet::new();
    if let Some(dup) = header.iter().find(|h| !seen.insert(h.as_str())) {
        return Err(Error::file(path, format!("column `{dup}` appears twice")));
    }
    Ok(Table {
        path: path.to_path_buf(),
        header,
        rows,
    })
}

/// Calls `f(line, fields)` for every non-empty record of a CSV text, in order. Records are read
/// without a header and may differ in length (the callers check what they expect); text that is
/// not UTF-8 is an error naming the line.
pub(crate) fn for_each_record(
    path: &Path,
    bytes: &[u8],
    mut f: impl FnMut(u64, Vec<String>) -> Result<()>,
) -> Result<()> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut record = csv::StringRecord::new();
    let mut lines = LineCounter::default();
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                let line = lines.line_at(bytes, record.position().map_or(0, |p| p.byte()));
                // A blank line is one empty field: not a record.
                if record.len() == 1 && record[0].trim().is_empty() {
                    continue;
                }
                f(line, record.iter().map(str::to_string).collect())?;
            }
            Err(e) => {
                let at = e
                    .position()
                    .map(|p| format!("line {}: ", lines.line_at(bytes, p.byte())))
                    .unwrap_or_default();
                let why = match e.kind() {
                    csv::ErrorKind::Utf8 { err, .. } => format!("not UTF-8 text ({err})"),
                    _ => e.to_string(),
                };
                return Err(Error::file(path, format!("{at}{why}")));
            }
        }
    }
}

/// The 1-based line of a record from its byte offset. The `csv` crate's own line numbers lag
/// behind with CRLF line ends (a record's position can point at the `\n` of the previous line
/// end), so lines are counted here, incrementally: records come in file order.
#[derive(Default)]
struct LineCounter {
    offset: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, bytes: &[u8], offset: u64) -> u64 {
        let mut start = usize::try_from(offset).map_or(bytes.len(), |o| o.min(bytes.len()));
        // The record starts after the line end that precedes it.
        while matches!(bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.offset {
            self.newlines += bytes[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count() as u64;
            self.offset = start;
        }
        self.newlines + 1
    }
}

impl Table {
    /// The column names, in file order.
    pub fn columns(&self) -> &[String] {
        &self.header
    }

    /// Number of rows (records after the header).
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether the table has no row.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The file the table was read from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn index(&self, name: &str) -> Result<usize> {
        self.header.iter().position(|h| h == name).ok_or_else(|| {
            Error::file(
                &self.path,
                format!(
                    "has no column `{name}` (its columns: {})",
                    self.header.join(", ")
                ),
            )
        })
    }

    /// The fields of a column as text (surrounding quotes removed, as CSV defines).
    pub fn column_str(&self, name: &str) -> Result<Vec<String>> {
        let j = self.index(name)?;
        Ok(self.rows.iter().map(|(_, r)| r[j].clone()).collect())
    }

    /// A column parsed by `parse`; the first field it rejects is an error naming the line, the
    /// column, the field and `what` was expected.
    pub fn column<T>(
        &self,
        name: &str,
        what: &str,
        parse: impl Fn(&str) -> Option<T>,
    ) -> Result<Vec<T>> {
        let j = self.index(name)?;
        self.rows
            .iter()
            .map(|(line, r)| {
                let field = r[j].trim();
                parse(field).ok_or_else(|| {
                    Error::file(
                        &self.path,
                        format!("line {line}, column `{name}`: `{field}` is not {what}"),
                    )
                })
            })
            .collect()
    }

    /// A column of numbers (`f64`; `NA`, empty fields and other text are errors).
    pub fn column_f64(&self, name: &str) -> Result<Vec<f64>> {
        self.column(name, "a number", |s| s.parse().ok())
    }

    /// A column of non-negative integers.
    pub fn column_usize(&self, name: &str) -> Result<Vec<usize>> {
        self.column(name, "a non-negative integer", |s| s.parse().ok())
    }
}
