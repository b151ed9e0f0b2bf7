//! Inventories written by other tools, read as fleets: the output of
//! `ansible-inventory --list`, of AWS `describe-instances`, and of PuppetDB's
//! `/pdb/query/v4/inventory`, next to fleetscope's own format.
//!
//! Each format has a module that turns its document into [`Host`]s, one
//! record at a time, so that an error names the record and the field (with
//! line and column) the way fleetscope's own fleet errors do; the hosts then
//! go through [`Fleet::new`] like any other (empty and duplicate names are
//! refused). [`detect`] picks the format from the document's shape. The
//! mappings are documented, with examples, in `docs/fleet.md`.
//!
//! This module decides only how a foreign record becomes a host; it never
//! changes how fleetscope's own format is read (that is [`crate::fleet`]).

use std::fmt;
use std::path::Path as FsPath;
use std::str::FromStr;

use serde_json::Value;

use crate::fleet::{Fleet, FleetError, Host};

mod ansible;
mod detect;
mod ec2;
mod puppetdb;

pub use detect::detect;

/// The format of a fleet file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FleetFormat {
    /// fleetscope's own: a JSON array of hosts, `{"hosts": [...]}`, or JSON
    /// Lines (`.jsonl` / `.ndjson`).
    Fleetscope,
    /// The output of `ansible-inventory -i INVENTORY --list`.
    Ansible,
    /// The output of AWS `describe-instances`, or a JSON array of its pages.
    Ec2,
    /// The answer of PuppetDB's `/pdb/query/v4/inventory`.
    PuppetDb,
}

impl FleetFormat {
    /// Every format, in the order the command line lists them.
    pub const ALL: [FleetFormat; 4] = [
        FleetFormat::Fleetscope,
        FleetFormat::Ansible,
        FleetFormat::Ec2,
        FleetFormat::PuppetDb,
    ];

    /// The name the command line uses: `fleetscope`, `ansible`, `ec2`, `puppetdb`.
    pub fn name(self) -> &'static str {
        match self {
            FleetFormat::Fleetscope => "fleetscope",
            FleetFormat::Ansible => "ansible",
            FleetFormat::Ec2 => "ec2",
            FleetFormat::PuppetDb => "puppetdb",
        }
    }
}

impl fmt::Display for FleetFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A name that is not one of [`FleetFormat::name`]'s.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown fleet format `{0}`; expected one of fleetscope, ansible, ec2, puppetdb")]
pub struct UnknownFleetFormat(pub String);

impl FromStr for FleetFormat {
    type Err = UnknownFleetFormat;

    /// Parses a command-line name, ignoring ASCII case.
    fn from_str(s: &str) -> Result<FleetFormat, UnknownFleetFormat> {
        FleetFormat::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownFleetFormat(s.to_string()))
    }
}

/// Why an inventory in another tool's format could not become a fleet.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InventoryError {
    /// The document is not valid JSON, or a record lacks a field the format
    /// requires, or a field has the wrong type.
    #[error("{format} inventory: {}{}line {line}, column {column}: {message}", record_text(.record), field_text(.field))]
    Malformed {
        /// The format being read.
        format: FleetFormat,
        /// The record, in the format's own terms: ``host `web-01` ``,
        /// ``group `web` ``, `page 1, instance Reservations[0].Instances[2]`,
        /// `record 3`.
        record: Option<String>,
        /// The field inside the record, such as `Tags[1].Value`.
        field: Option<String>,
        /// 1-based line in the file.
        line: usize,
        /// 1-based column in the file.
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// Two records describe hosts of the same name.
    #[error("{format} inventory: {first} and {second} are both named `{name}`; host names must be unique")]
    DuplicateName {
        /// The format being read.
        format: FleetFormat,
        /// The shared name.
        name: String,
        /// The first record with it.
        first: String,
        /// The second record with it.
        second: String,
    },
    /// The Ansible inventory is `ansible-inventory --list --export` output.
    #[error("ansible inventory: group `{group}` has `vars`, so this is the output of `ansible-inventory --list --export`, where group variables stay under their groups and hosts lack them; run `ansible-inventory -i INVENTORY --list` without `--export`, which applies Ansible's variable precedence to every host")]
    AnsibleExport {
        /// The first group with `vars`.
        group: String,
    },
}

fn record_text(record: &Option<String>) -> String {
    record.as_ref().map_or(String::new(), |r| format!("{r}, "))
}

fn field_text(field: &Option<String>) -> String {
    field
        .as_ref()
        .map_or(String::new(), |f| format!("field `{f}`, "))
}

impl Fleet {
    /// Reads a fleet file in the given format, without detection. For
    /// [`FleetFormat::Fleetscope`], a name ending in `.jsonl` or `.ndjson`
    /// means JSON Lines, as in [`Fleet::load`].
    pub fn load_with(path: impl AsRef<FsPath>, format: FleetFormat) -> Result<Fleet, FleetError> {
        let path = path.as_ref();
        let bytes = std::fs::read(path).map_err(|source| FleetError::Io {
            path: path.display().to_string(),
            source,
        })?;
        if format == FleetFormat::Fleetscope && super::is_json_lines(path) {
            return Fleet::from_json_lines(&bytes);
        }
        Fleet::from_json_with(&bytes, format)
    }

    /// Parses a JSON document in the given format; see [`detect`] to choose
    /// the format from the document. [`FleetFormat::Fleetscope`] is
    /// [`Fleet::from_json`] (not JSON Lines).
    pub fn from_json_with(bytes: &[u8], format: FleetFormat) -> Result<Fleet, FleetError> {
        match format {
            FleetFormat::Fleetscope => Fleet::from_json(bytes),
            FleetFormat::Ansible => ansible::read(bytes),
            FleetFormat::Ec2 => ec2::read(bytes),
            FleetFormat::PuppetDb => puppetdb::read(bytes),
        }
    }
}

/// `Fleet::load`'s path for JSON (not JSON Lines) files: detect, then read.
pub(crate) fn from_detected_json(bytes: &[u8]) -> Result<Fleet, FleetError> {
    Fleet::from_json_with(bytes, detect(bytes))
}

/// A scalar as tag text: strings as they are, numbers as JSON writes them,
/// booleans `true`/`false`; `None` for null, arrays and objects.
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Null | Value::Array(_) | Value::Object(_) => None,
    }
}

/// A derived struct read from a JSON object only: serde's derive also
/// accepts an array of the fields in order, which no inventory format means.
struct Object<T>(T);

/// What an [`Object`] is, for "invalid type: ..., expected ..." messages.
trait Described {
    const WHAT: &'static str;
}

impl<'de, T: serde::Deserialize<'de> + Described> serde::Deserialize<'de> for Object<T> {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Object<T>, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: serde::Deserialize<'de> + Described> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = Object<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(T::WHAT)
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<Object<T>, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map)).map(Object)
            }
        }
        deserializer.deserialize_map(ObjectVisitor(std::marker::PhantomData))
    }
}

/// A host's name in a format's record: a non-empty string, checked while it
/// is read so that the error names its field.
struct Name(String);

impl<'de> serde::Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        // A visitor, not a check after reading: serde_json then places the
        // error at the name rather than past the enclosing object.
        struct NameVisitor;
        impl serde::de::Visitor<'_> for NameVisitor {
            type Value = Name;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-empty host name")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Name, E> {
                if v.is_empty() {
                    return Err(E::invalid_value(serde::de::Unexpected::Str(""), &self));
                }
                Ok(Name(v.to_string()))
            }
        }
        deserializer.deserialize_str(NameVisitor)
    }
}

/// Splits an error path into the record (described in the format's terms)
/// and the field path inside it.
type Split = fn(&[Step]) -> (Option<String>, Vec<Step>);

/// One step of the path serde reports for an error.
#[derive(Clone)]
enum Step {
    Key(String),
    Index(usize),
}

/// Reads `bytes` as one `T` with the error path tracked, then checks that
/// nothing follows. `split` turns the path into the record and the field.
fn parse<'de, T: serde::Deserialize<'de>>(
    format: FleetFormat,
    bytes: &'de [u8],
    split: Split,
) -> Result<T, FleetError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize::<_, T>(&mut de).map_err(|e| {
        let steps: Vec<Step> = e
            .path()
            .iter()
            .map(|segment| match segment {
                serde_path_to_error::Segment::Seq { index } => Step::Index(*index),
                serde_path_to_error::Segment::Map { key } => Step::Key(key.clone()),
                serde_path_to_error::Segment::Enum { variant } => Step::Key(variant.clone()),
                serde_path_to_error::Segment::Unknown => Step::Key("?".into()),
            })
            .collect();
        let (record, field) = split(&steps);
        let inner = e.into_inner();
        malformed(format, record, path_text(&field), &inner)
    })?;
    de.end().map_err(|e| {
        let mut error = malformed(format, None, None, &e);
        if let InventoryError::Malformed { message, .. } = &mut error {
            message.push_str("; only one JSON document may stand in the file");
        }
        FleetError::from(error)
    })?;
    Ok(value)
}

fn malformed(
    format: FleetFormat,
    record: Option<String>,
    field: Option<String>,
    e: &serde_json::Error,
) -> InventoryError {
    let text = e.to_string();
    let message = match text.rfind(" at line ") {
        Some(i) => text.get(..i).unwrap_or(&text).to_string(),
        None => text,
    };
    InventoryError::Malformed {
        format,
        record,
        field,
        line: e.line(),
        column: e.column(),
        message,
    }
}

impl From<InventoryError> for FleetError {
    fn from(e: InventoryError) -> FleetError {
        FleetError::Inventory(e)
    }
}

/// `a.b[2].c`, or `None` for an empty path.
fn path_text(steps: &[Step]) -> Option<String> {
    let mut out = String::new();
    for step in steps {
        match step {
            Step::Key(key) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(key);
            }
            Step::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    (!out.is_empty()).then_some(out)
}

/// Builds the fleet, naming records in the format's terms when two hosts
/// share a name. `label` describes the record of the host at an index.
fn build(
    format: FleetFormat,
    hosts: Vec<Host>,
    label: impl Fn(usize) -> String,
) -> Result<Fleet, FleetError> {
    Fleet::new(hosts).map_err(|e| match e {
        FleetError::DuplicateName {
            name,
            first,
            second,
        } => FleetError::from(InventoryError::DuplicateName {
            format,
            name,
            first: label(first),
            second: label(second),
        }),
        other => other,
    })
}
