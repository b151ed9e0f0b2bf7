//! PuppetDB's `/pdb/query/v4/inventory` answer as a fleet.
//!
//! The document is a JSON array of records, each with `certname` and
//! `facts` (and usually `timestamp`, `environment`, `trusted`). name =
//! `certname`; roles = `trusted.extensions.pp_role` when present; tags = the
//! scalar values of `trusted.extensions` plus the top-level `environment`
//! when it is a string (it wins over an extension of that name); facts =
//! `facts`. Other keys are ignored.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{
    build, parse, scalar_text, Described, FleetFormat, InventoryError, Name, Object, Step,
};
use crate::fleet::{Fleet, FleetError, Host};

pub(super) fn read(bytes: &[u8]) -> Result<Fleet, FleetError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    if first != Some(b'[') {
        return Err(InventoryError::Malformed {
            format: FleetFormat::PuppetDb,
            record: None,
            field: None,
            line: 1,
            column: 1,
            message: "a puppetdb inventory is the JSON array that `/pdb/query/v4/inventory` answers, one record per node".into(),
        }
        .into());
    }
    let records: Vec<Record> = parse(FleetFormat::PuppetDb, bytes, split)?;
    let hosts = records
        .into_iter()
        .map(|r| {
            let mut tags = r.extension_tags;
            if let Some(environment) = r.environment {
                tags.insert("environment".to_string(), environment);
            }
            Host {
                name: r.certname,
                roles: r.roles,
                tags,
                facts: r.facts,
            }
        })
        .collect();
    build(FleetFormat::PuppetDb, hosts, |i| format!("record {i}"))
}

fn split(steps: &[Step]) -> (Option<String>, Vec<Step>) {
    match steps {
        [Step::Index(r), rest @ ..] => (Some(format!("record {r}")), rest.to_vec()),
        _ => (None, steps.to_vec()),
    }
}

struct Record {
    certname: String,
    facts: Map<String, Value>,
    environment: Option<String>,
    roles: Vec<String>,
    extension_tags: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for Record {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Record, D::Error> {
        deserializer.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Record;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an inventory record: an object with `certname` and `facts`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Record, A::Error> {
        let (mut certname, mut facts, mut environment) = (None, None, None);
        let mut extensions = Extensions::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "certname" => {
                    let Name(name) = map.next_value()?;
                    certname = Some(name);
                }
                "facts" => facts = Some(map.next_value::<Map<String, Value>>()?),
                "environment" => {
                    // Only a string environment is a tag; PuppetDB writes
                    // null for nodes it has no environment for.
                    environment = match map.next_value::<Value>()? {
                        Value::String(s) => Some(s),
                        _ => None,
                    };
                }
                "trusted" => {
                    if let Some(Object(trusted)) = map.next_value::<Option<Object<Trusted>>>()? {
                        extensions = trusted.extensions.unwrap_or_default();
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Record {
            certname: certname.ok_or_else(|| de::Error::missing_field("certname"))?,
            facts: facts.ok_or_else(|| de::Error::missing_field("facts"))?,
            environment,
            roles: extensions.roles,
            extension_tags: extensions.tags,
        })
    }
}

/// `trusted`: only `extensions` matters.
#[derive(serde::Deserialize)]
struct Trusted {
    #[serde(default)]
    extensions: Option<Extensions>,
}

impl Described for Trusted {
    const WHAT: &'static str = "the trusted facts: an object";
}

/// `trusted.extensions`: scalars become tags, `pp_role` the roles.
#[derive(Default)]
struct Extensions {
    roles: Vec<String>,
    tags: BTreeMap<String, String>,
}

impl<'de> Deserialize<'de> for Extensions {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Extensions, D::Error> {
        deserializer.deserialize_map(ExtensionsVisitor)
    }
}

struct ExtensionsVisitor;

impl<'de> Visitor<'de> for ExtensionsVisitor {
    type Value = Extensions;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the certificate extensions: an object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Extensions, A::Error> {
        let mut out = Extensions::default();
        while let Some(key) = map.next_key::<String>()? {
            let value = if key == "pp_role" {
                let role: RoleValue = map.next_value()?;
                out.roles = role.roles;
                role.value
            } else {
                map.next_value::<Value>()?
            };
            if let Some(text) = scalar_text(&value) {
                out.tags.insert(key, text);
            }
        }
        Ok(out)
    }
}

/// `pp_role`, checked while it is read so that an error names its path and
/// position: a string is one role, a list of strings several, null none;
/// anything else is not a role.
struct RoleValue {
    value: Value,
    roles: Vec<String>,
}

impl<'de> Deserialize<'de> for RoleValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<RoleValue, D::Error> {
        deserializer.deserialize_any(RoleVisitor)
    }
}

struct RoleVisitor;

impl<'de> Visitor<'de> for RoleVisitor {
    type Value = RoleValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a role name (a string) or a list of role names")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<RoleValue, E> {
        if v.is_empty() {
            return Err(E::invalid_value(de::Unexpected::Str(""), &self));
        }
        Ok(RoleValue {
            value: Value::String(v.to_string()),
            roles: vec![v.to_string()],
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<RoleValue, E> {
        Ok(RoleValue {
            value: Value::Null,
            roles: Vec::new(),
        })
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<RoleValue, A::Error> {
        let mut roles = Vec::new();
        while let Some(role) = seq.next_element::<String>()? {
            if role.is_empty() {
                return Err(de::Error::invalid_value(
                    de::Unexpected::Str(""),
                    &"a role name",
                ));
            }
            roles.push(role);
        }
        Ok(RoleValue {
            value: Value::Array(roles.iter().cloned().map(Value::String).collect()),
            roles,
        })
    }
}
