//! AWS `describe-instances` output as a fleet.
//!
//! The document is one page (`{"Reservations": [...]}`) or a JSON array of
//! pages; `NextToken` and every other key beside `Reservations` are
//! ignored. Every instance of every reservation is a host, whatever its
//! state: name = `InstanceId`, no roles, tags = the `Tags` list as a map
//! `Key → Value` (no `Tags`: no tags), facts = the instance object as it is.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::{build, parse, Described, FleetFormat, InventoryError, Name, Object, Step};
use crate::fleet::{Fleet, FleetError, Host};

pub(super) fn read(bytes: &[u8]) -> Result<Fleet, FleetError> {
    let first = bytes.iter().find(|b| !b.is_ascii_whitespace()).copied();
    let pages: Vec<Page> = match first {
        Some(b'[') => parse::<Vec<Object<Page>>>(FleetFormat::Ec2, bytes, split)?
            .into_iter()
            .map(|p| p.0)
            .collect(),
        Some(b'{') => vec![parse::<Object<Page>>(FleetFormat::Ec2, bytes, split)?.0],
        _ => {
            return Err(InventoryError::Malformed {
                format: FleetFormat::Ec2,
                record: None,
                field: None,
                line: 1,
                column: 1,
                message: "an ec2 inventory is the output of `aws ec2 describe-instances` (an object with `Reservations`) or a JSON array of such pages".into(),
            }
            .into())
        }
    };
    let paged = first == Some(b'[');
    let mut hosts = Vec::new();
    let mut labels = Vec::new();
    for (p, page) in pages.into_iter().enumerate() {
        for (r, Object(reservation)) in page.reservations.into_iter().enumerate() {
            for (i, instance) in reservation.instances.into_iter().enumerate() {
                labels.push(label(paged.then_some(p), r, i));
                hosts.push(Host {
                    name: instance.id,
                    roles: Vec::new(),
                    tags: instance.tags,
                    facts: instance.object,
                });
            }
        }
    }
    build(FleetFormat::Ec2, hosts, |i| {
        labels
            .get(i)
            .cloned()
            .unwrap_or_else(|| format!("instance {i}"))
    })
}

fn label(page: Option<usize>, reservation: usize, instance: usize) -> String {
    let page = page.map_or(String::new(), |p| format!("page {p}, "));
    format!("{page}instance Reservations[{reservation}].Instances[{instance}]")
}

/// Errors inside `Reservations[r].Instances[i]` belong to that instance,
/// others to the reservation or the page.
fn split(steps: &[Step]) -> (Option<String>, Vec<Step>) {
    let (page, steps) = match steps {
        [Step::Index(p), rest @ ..] => (Some(*p), rest),
        _ => (None, steps),
    };
    let page_text = page.map_or(String::new(), |p| format!("page {p}"));
    match steps {
        [Step::Key(res), Step::Index(r), Step::Key(ins), Step::Index(i), rest @ ..]
            if res == "Reservations" && ins == "Instances" =>
        {
            (Some(label(page, *r, *i)), rest.to_vec())
        }
        [Step::Key(res), Step::Index(r), rest @ ..] if res == "Reservations" => {
            let prefix = page.map_or(String::new(), |p| format!("page {p}, "));
            (
                Some(format!("{prefix}reservation Reservations[{r}]")),
                rest.to_vec(),
            )
        }
        _ => ((!page_text.is_empty()).then_some(page_text), steps.to_vec()),
    }
}

#[derive(serde::Deserialize)]
struct Page {
    #[serde(rename = "Reservations")]
    reservations: Vec<Object<Reservation>>,
}

impl Described for Page {
    const WHAT: &'static str = "a describe-instances page: an object with `Reservations`";
}

#[derive(serde::Deserialize)]
struct Reservation {
    #[serde(rename = "Instances")]
    instances: Vec<Instance>,
}

impl Described for Reservation {
    const WHAT: &'static str = "a reservation: an object with `Instances`";
}

/// An instance: its id and tags checked, the whole object kept as facts.
struct Instance {
    id: String,
    tags: BTreeMap<String, String>,
    object: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Instance {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Instance, D::Error> {
        deserializer.deserialize_map(InstanceVisitor)
    }
}

struct InstanceVisitor;

impl<'de> Visitor<'de> for InstanceVisitor {
    type Value = Instance;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an instance: an object with `InstanceId`")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Instance, A::Error> {
        let mut object = Map::new();
        let mut id = None;
        let mut tags = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "InstanceId" => {
                    let Name(value) = map.next_value()?;
                    id = Some(value.clone());
                    object.insert(key, Value::String(value));
                }
                "Tags" => {
                    let list: TagList = map.next_value()?;
                    tags = list.tags;
                    object.insert(key, Value::Array(list.raw));
                }
                _ => {
                    let value: Value = map.next_value()?;
                    object.insert(key, value);
                }
            }
        }
        let id = id.ok_or_else(|| de::Error::missing_field("InstanceId"))?;
        Ok(Instance { id, tags, object })
    }
}

/// `Tags`: a list of `{"Key": ..., "Value": ...}`, read as a map and kept
/// as it is.
struct TagList {
    tags: BTreeMap<String, String>,
    raw: Vec<Value>,
}

impl<'de> Deserialize<'de> for TagList {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TagList, D::Error> {
        struct TagListVisitor;
        impl<'de> Visitor<'de> for TagListVisitor {
            type Value = TagList;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a list of tags, each {\"Key\": ..., \"Value\": ...}")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<TagList, A::Error> {
                let mut tags = BTreeMap::new();
                let mut raw = Vec::new();
                while let Some(tag) = seq.next_element::<Tag>()? {
                    if tags.contains_key(&tag.key) {
                        return Err(de::Error::custom(format!(
                            "tag key `{}` appears twice (the second time in element {})",
                            tag.key,
                            raw.len()
                        )));
                    }
                    tags.insert(tag.key, tag.value);
                    raw.push(Value::Object(tag.object));
                }
                Ok(TagList { tags, raw })
            }
        }
        deserializer.deserialize_seq(TagListVisitor)
    }
}

/// One tag; any key beside `Key` and `Value` is kept in the facts only.
struct Tag {
    key: String,
    value: String,
    object: Map<String, Value>,
}

impl<'de> Deserialize<'de> for Tag {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Tag, D::Error> {
        struct TagVisitor;
        impl<'de> Visitor<'de> for TagVisitor {
            type Value = Tag;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a tag: {\"Key\": ..., \"Value\": ...}")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tag, A::Error> {
                let (mut key, mut value) = (None, None);
                let mut object = Map::new();
                while let Some(name) = map.next_key::<String>()? {
                    match name.as_str() {
                        "Key" => {
                            let text: String = map.next_value()?;
                            key = Some(text.clone());
                            object.insert(name, Value::String(text));
                        }
                        "Value" => {
                            let text: String = map.next_value()?;
                            value = Some(text.clone());
                            object.insert(name, Value::String(text));
                        }
                        _ => {
                            let other: Value = map.next_value()?;
                            object.insert(name, other);
                        }
                    }
                }
                let key = key.ok_or_else(|| de::Error::missing_field("Key"))?;
                let value = value.ok_or_else(|| de::Error::missing_field("Value"))?;
                Ok(Tag { key, value, object })
            }
        }
        deserializer.deserialize_map(TagVisitor)
    }
}
