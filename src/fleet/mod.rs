//! The fleet: hosts with names, roles, tags and facts, and loading them.
//!
//! A [`Fleet`] is always valid: every host has a non-empty name and no two
//! hosts share one. Loading never drops a record silently; a bad record is an
//! error that names it (by index, or by line in JSON Lines) and the field.

pub(crate) mod inventory;

use std::collections::BTreeMap;
use std::path::Path as FsPath;

use serde::{Deserialize, Serialize};

/// One server, as the inventory describes it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// The host's identity, unique in its fleet.
    pub name: String,
    /// Roles the host holds (`role = web` tests each).
    #[serde(default)]
    pub roles: Vec<String>,
    /// Cloud or CMDB tags; keys may hold `.`, `/`, `:`, `-` and spaces.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// Nested facts: strings, numbers, booleans, arrays of those, objects.
    #[serde(default)]
    pub facts: serde_json::Map<String, serde_json::Value>,
}

impl Host {
    /// A host with this name and nothing else.
    pub fn named(name: impl Into<String>) -> Host {
        Host {
            name: name.into(),
            ..Host::default()
        }
    }
}

/// Why a fleet could not be loaded or built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FleetError {
    /// The file could not be read.
    #[error("cannot read fleet file {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// A record, or the document around the records, is malformed.
    #[error("{}{}line {line}, column {column}: {message}", record_text(.record), field_text(.field))]
    Malformed {
        /// 0-based index of the record (the host) in the file, when known.
        record: Option<usize>,
        /// The field inside the record, such as `tags.env`, when known.
        field: Option<String>,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column in the file.
        column: usize,
        /// What is wrong, in the JSON reader's words.
        message: String,
    },
    /// A host's name is empty.
    #[error("record {record}: the host name is empty; every host needs a unique, non-empty name")]
    EmptyName {
        /// 0-based index of the record.
        record: usize,
    },
    /// Two hosts share a name.
    #[error("records {first} and {second} are both named `{name}`; host names must be unique")]
    DuplicateName {
        /// The shared name.
        name: String,
        /// 0-based index of the first record with it.
        first: usize,
        /// 0-based index of the second record with it.
        second: usize,
    },
    /// An inventory in another tool's format (see [`FleetFormat`](crate::FleetFormat))
    /// does not fit its format's mapping.
    #[error(transparent)]
    Inventory(crate::fleet::inventory::InventoryError),
}

fn record_text(record: &Option<usize>) -> String {
    record.map_or(String::new(), |r| format!("record {r}, "))
}

fn field_text(field: &Option<String>) -> String {
    field
        .as_ref()
        .map_or(String::new(), |f| format!("field `{f}`, "))
}

/// `{"hosts": [...]}`, the wrapped form of a fleet document.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Wrapped {
    hosts: Vec<Host>,
}

/// A validated list of hosts, in the order the inventory gave them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Fleet {
    hosts: Vec<Host>,
    /// Host indices sorted by name, for lookups by name without a second
    /// copy of every name.
    by_name: Vec<u32>,
}

impl Fleet {
    /// A fleet of these hosts. Rejects empty and duplicate names.
    #[expect(
        clippy::indexing_slicing,
        reason = "by_name holds positions 0..hosts.len(), so every index is in range"
    )]
    pub fn new(hosts: Vec<Host>) -> Result<Fleet, FleetError> {
        if let Some(record) = hosts.iter().position(|h| h.name.is_empty()) {
            return Err(FleetError::EmptyName { record });
        }
        // Fleets beyond u32::MAX hosts are not supported; the index would
        // not fit anyway.
        let mut by_name: Vec<u32> = (0..hosts.len().min(u32::MAX as usize) as u32).collect();
        by_name.sort_unstable_by(|a, b| {
            hosts[*a as usize]
                .name
                .cmp(&hosts[*b as usize].name)
                .then(a.cmp(b))
        });
        for pair in by_name.windows(2) {
            let (a, b) = (pair[0] as usize, pair[1] as usize);
            if hosts[a].name == hosts[b].name {
                return Err(FleetError::DuplicateName {
                    name: hosts[a].name.clone(),
                    first: a,
                    second: b,
                });
            }
        }
        Ok(Fleet { hosts, by_name })
    }

    /// Reads a fleet file: JSON Lines when the name ends in `.jsonl` or
    /// `.ndjson`, otherwise a JSON array of hosts or `{"hosts": [...]}`, or
    /// an inventory in another tool's format, detected from its shape
    /// ([`crate::detect_fleet_format`]; [`Fleet::load_with`] names the format).
    pub fn load(path: impl AsRef<FsPath>) -> Result<Fleet, FleetError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| FleetError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if is_json_lines(path) {
            Fleet::from_json_lines(&bytes)
        } else {
            crate::fleet::inventory::from_detected_json(&bytes)
        }
    }

    /// Parses a JSON array of hosts, or an object `{"hosts": [...]}`.
    pub fn from_json(bytes: &[u8]) -> Result<Fleet, FleetError> {
        let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
        let mut de = serde_json::Deserializer::from_slice(bytes);
        let hosts = match first {
            Some(b'[') => serde_path_to_error::deserialize::<_, Vec<Host>>(&mut de)
                .map_err(|e| malformed(bytes, e))?,
            Some(b'{') => {
                serde_path_to_error::deserialize::<_, Wrapped>(&mut de)
                    .map_err(|e| malformed(bytes, e))?
                    .hosts
            }
            _ => {
                return Err(FleetError::Malformed {
                    record: None,
                    field: None,
                    line: 1,
                    column: 1,
                    message: "a fleet file holds a JSON array of hosts, an object {\"hosts\": [...]}, or JSON Lines (one host per line, in a .jsonl file)".into(),
                })
            }
        };
        de.end().map_err(|e| FleetError::Malformed {
            record: None,
            field: None,
            line: e.line(),
            column: e.column(),
            message: format!("{e}; only one JSON document may stand in the file"),
        })?;
        Fleet::new(hosts)
    }

    /// Parses JSON Lines: one host object per line; blank lines are skipped.
    /// Errors name the record and its 1-based line.
    pub fn from_json_lines(bytes: &[u8]) -> Result<Fleet, FleetError> {
        let mut hosts = Vec::new();
        for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            hosts.push(host_from_line(line, hosts.len(), index + 1)?);
        }
        Fleet::new(hosts)
    }

    /// The hosts, in inventory order.
    pub fn hosts(&self) -> &[Host] {
        &self.hosts
    }

    /// How many hosts there are.
    pub fn len(&self) -> usize {
        self.hosts.len()
    }

    /// Whether there are no hosts.
    pub fn is_empty(&self) -> bool {
        self.hosts.is_empty()
    }

    /// The position of the host with this name. O(log n).
    pub fn position(&self, name: &str) -> Option<usize> {
        self.by_name
            .binary_search_by(|i| {
                self.hosts
                    .get(*i as usize)
                    .map_or("", |h| h.name.as_str())
                    .cmp(name)
            })
            .ok()
            .and_then(|k| self.by_name.get(k))
            .map(|i| *i as usize)
    }

    /// The host with this name.
    pub fn get(&self, name: &str) -> Option<&Host> {
        self.position(name).and_then(|i| self.hosts.get(i))
    }

    /// The hosts, giving up the fleet.
    pub fn into_hosts(self) -> Vec<Host> {
        self.hosts
    }
}

/// One line of JSON Lines as a host, with the error `from_json_lines`
/// gives for it: `record` is its 0-based record index, `line` its 1-based
/// line number.
/// Whether `path` names a JSON Lines file: its name ends in `.jsonl` or
/// `.ndjson` (any case). Every reader of fleet files decides by this.
pub(crate) fn is_json_lines(path: &FsPath) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("jsonl") || e.eq_ignore_ascii_case("ndjson"))
}

pub(crate) fn host_from_line(
    line: &[u8],
    record: usize,
    line_no: usize,
) -> Result<Host, FleetError> {
    let record = Some(record);
    let mut de = serde_json::Deserializer::from_slice(line);
    let host: Host = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        FleetError::Malformed {
            record,
            field: (path != "." && !path.is_empty()).then_some(path),
            line: line_no,
            column: inner.column(),
            message: clean_message(&inner),
        }
    })?;
    de.end().map_err(|e| FleetError::Malformed {
        record,
        field: None,
        line: line_no,
        column: e.column(),
        message: format!("{}; JSON Lines hold one host per line", clean_message(&e)),
    })?;
    Ok(host)
}

/// serde's message without its own "at line L column C" suffix, which the
/// error repeats in a fixed place.
fn clean_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

fn malformed(bytes: &[u8], e: serde_path_to_error::Error<serde_json::Error>) -> FleetError {
    let mut record = None;
    let mut field = Vec::new();
    for segment in e.path().iter() {
        match segment {
            serde_path_to_error::Segment::Seq { index } if record.is_none() => {
                record = Some(*index);
            }
            serde_path_to_error::Segment::Seq { index } => field.push(format!("[{index}]")),
            serde_path_to_error::Segment::Map { key } if record.is_some() => {
                field.push(key.clone())
            }
            serde_path_to_error::Segment::Map { .. } => {}
            serde_path_to_error::Segment::Enum { variant } => field.push(variant.clone()),
            serde_path_to_error::Segment::Unknown => field.push("?".into()),
        }
    }
    let inner = e.into_inner();
    let mut message = clean_message(&inner);
    if inner.is_data() && message.starts_with("unknown field") {
        message.push_str("; a host has only name, roles, tags and facts (put other data in facts)");
    }
    if inner.is_syntax() && std::str::from_utf8(bytes).is_err() {
        message.push_str(" (the file is not valid UTF-8; fleet files must be UTF-8)");
    }
    FleetError::Malformed {
        record,
        field: (!field.is_empty()).then(|| field.join(".").replace(".[", "[")),
        line: inner.line(),
        column: inner.column(),
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_an_array_and_a_wrapped_object() {
        let a = Fleet::from_json(br#"[{"name": "a", "roles": ["web"]}, {"name": "b"}]"#);
        let b = Fleet::from_json(br#"{"hosts": [{"name": "a", "roles": ["web"]}, {"name": "b"}]}"#);
        let (a, b) = (a.expect("array loads"), b.expect("object loads"));
        assert_eq!(a, b);
        assert_eq!(a.len(), 2);
        assert_eq!(
            a.get("a").map(|h| h.roles.clone()),
            Some(vec!["web".to_string()])
        );
        assert_eq!(a.position("b"), Some(1));
        assert_eq!(a.position("c"), None);
    }

    #[test]
    fn names_the_record_and_field_of_a_bad_value() {
        let err =
            Fleet::from_json(b"[{\"name\": \"a\"},\n {\"name\": \"b\", \"tags\": {\"env\": 1}}]")
                .expect_err("a numeric tag is rejected");
        match &err {
            FleetError::Malformed {
                record,
                field,
                line,
                ..
            } => {
                assert_eq!(*record, Some(1));
                assert_eq!(field.as_deref(), Some("tags.env"));
                assert_eq!(*line, 2);
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            err.to_string()
                .starts_with("record 1, field `tags.env`, line 2"),
            "{err}"
        );
    }

    #[test]
    fn missing_and_non_string_names_are_errors() {
        let err = Fleet::from_json(br#"[{"roles": []}]"#).expect_err("missing name");
        assert!(
            err.to_string().contains("record 0")
                && err.to_string().contains("missing field `name`"),
            "{err}"
        );
        let err = Fleet::from_json(br#"[{"name": 7}]"#).expect_err("numeric name");
        assert!(err.to_string().contains("field `name`"), "{err}");
        let err = Fleet::from_json(br#"[{"name": ""}]"#).expect_err("empty name");
        assert!(matches!(err, FleetError::EmptyName { record: 0 }));
    }

    #[test]
    fn duplicate_names_are_rejected_with_both_records() {
        let err = Fleet::from_json(br#"[{"name": "a"}, {"name": "b"}, {"name": "a"}]"#)
            .expect_err("duplicate");
        assert!(
            matches!(
                err,
                FleetError::DuplicateName { ref name, first: 0, second: 2 } if name == "a"
            ),
            "{err:?}"
        );
    }

    #[test]
    fn unknown_fields_are_rejected_with_a_hint() {
        let err = Fleet::from_json(br#"[{"name": "a", "role": "web"}]"#).expect_err("typo");
        let text = err.to_string();
        assert!(
            text.contains("unknown field `role`") && text.contains("facts"),
            "{text}"
        );
    }

    #[test]
    fn json_lines_name_the_line() {
        let ok = Fleet::from_json_lines(b"{\"name\":\"a\"}\n\n{\"name\":\"b\"}\n").expect("loads");
        assert_eq!(ok.len(), 2);
        let err =
            Fleet::from_json_lines(b"{\"name\":\"a\"}\n\n{\"name\":\"b\", \"roles\": \"web\"}\n")
                .expect_err("roles must be a list");
        match err {
            FleetError::Malformed {
                record,
                field,
                line,
                ..
            } => {
                assert_eq!(record, Some(1));
                assert_eq!(line, 3);
                assert_eq!(field.as_deref(), Some("roles"));
            }
            other => panic!("unexpected {other:?}"),
        }
        let err = Fleet::from_json_lines(b"{\"name\":\"a\"} {\"name\":\"b\"}\n")
            .expect_err("two on a line");
        assert!(
            matches!(err, FleetError::Malformed { line: 1, .. }),
            "{err:?}"
        );
    }

    #[test]
    fn other_documents_and_trailing_data_are_rejected() {
        assert!(Fleet::from_json(b"42").is_err());
        assert!(Fleet::from_json(b"").is_err());
        assert!(Fleet::from_json(br#"[{"name": "a"}] [ ]"#).is_err());
        assert!(Fleet::from_json(br#"{"hosts": [], "extra": 1}"#).is_err());
    }

    #[test]
    fn invalid_utf8_is_a_clean_error() {
        let err = Fleet::from_json(b"[{\"name\": \"a\xff\"}]").expect_err("invalid utf-8");
        assert!(err.to_string().contains("UTF-8"), "{err}");
    }
}
