//! `ansible-inventory --list` output as a fleet.
//!
//! The document is an object: `_meta.hostvars` maps each host to its
//! variables (Ansible has already merged group and host variables), and
//! every other key is a group with `hosts` and `children`. A host is every
//! name in `_meta.hostvars` or in a group's `hosts`; its roles are the
//! groups that hold it directly or through `children` (except `all` and
//! `ungrouped`), its facts its variables, its tags the scalars of its `tags`
//! variable. `--list --export` output, which leaves group variables under
//! the groups, is refused: its hosts lack them.
//!
//! Host order: `_meta.hostvars` in document order, then the hosts that only
//! groups name, in the order they first appear. Role order: group order in
//! the document. Group cycles (which Ansible itself refuses) are walked
//! once, never looped.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use super::{
    build, parse, scalar_text, Described, FleetFormat, InventoryError, Name, Object, Step,
};
use crate::fleet::{Fleet, FleetError, Host};

/// Groups that every host belongs to, which say nothing about a host.
const NOT_ROLES: [&str; 2] = ["all", "ungrouped"];

pub(super) fn read(bytes: &[u8]) -> Result<Fleet, FleetError> {
    let document: Document = parse(FleetFormat::Ansible, bytes, split)?;
    let Some(hostvars) = document.hostvars else {
        return Err(InventoryError::Malformed {
            format: FleetFormat::Ansible,
            record: None,
            field: Some("_meta".into()),
            line: 1,
            column: 1,
            message:
                "missing field `_meta`; `ansible-inventory --list` always writes `_meta.hostvars`"
                    .into(),
        }
        .into());
    };
    if let Some(group) = document.groups.iter().find(|g| g.has_vars) {
        return Err(InventoryError::AnsibleExport {
            group: group.name.clone(),
        }
        .into());
    }
    let hosts = hosts(hostvars, &document.groups);
    // Names are unique by construction; `build` still checks.
    build(FleetFormat::Ansible, hosts, |i| format!("host number {i}"))
}

/// Turns host variables and groups into hosts (see the module docs).
fn hosts(hostvars: Vec<(String, Map<String, Value>)>, groups: &[Group]) -> Vec<Host> {
    let index: HashMap<&str, usize> = groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    // parents[g]: the groups that list g among their children.
    let mut parents: Vec<Vec<usize>> = vec![Vec::new(); groups.len()];
    for (parent, group) in groups.iter().enumerate() {
        for child in &group.children {
            // A child no top-level key defines holds no hosts.
            if let Some(slot) = index.get(child.as_str()).and_then(|c| parents.get_mut(*c)) {
                slot.push(parent);
            }
        }
    }
    // One mark buffer for every walk: stamped with the walk's number, so it
    // is never cleared (groups can number in the thousands in generated
    // inventories).
    let mut marks = vec![usize::MAX; groups.len()];
    let ancestors: Vec<Vec<usize>> = (0..groups.len())
        .map(|g| ancestors_of(g, &parents, &mut marks))
        .collect();

    let mut order: Vec<String> = Vec::new();
    let mut vars: HashMap<String, Map<String, Value>> = HashMap::new();
    for (name, v) in hostvars {
        order.push(name.clone());
        vars.insert(name, v);
    }
    let mut known: HashSet<String> = order.iter().cloned().collect();
    let mut direct: HashMap<&str, Vec<usize>> = HashMap::new();
    for (g, group) in groups.iter().enumerate() {
        for host in &group.hosts {
            if known.insert(host.clone()) {
                // A host with no variables: first named by this group.
                order.push(host.clone());
            }
            direct.entry(host.as_str()).or_default().push(g);
        }
    }

    order
        .into_iter()
        .map(|name| {
            let mut held: BTreeSet<usize> = BTreeSet::new();
            for g in direct.get(name.as_str()).into_iter().flatten() {
                held.extend(ancestors.get(*g).into_iter().flatten().copied());
            }
            let roles = held
                .into_iter()
                .filter_map(|g| groups.get(g))
                .map(|g| g.name.as_str())
                .filter(|n| !NOT_ROLES.contains(n))
                .map(str::to_string)
                .collect();
            let facts = vars.remove(&name).unwrap_or_default();
            let tags = match facts.get("tags") {
                Some(Value::Object(tags)) => tags
                    .iter()
                    .filter_map(|(k, v)| scalar_text(v).map(|t| (k.clone(), t)))
                    .collect(),
                _ => BTreeMap::new(),
            };
            Host {
                name,
                roles,
                tags,
                facts,
            }
        })
        .collect()
}

/// `g` and every group above it through `children`, each once (so a cycle
/// ends). `marks[x] == g` means x was reached in this walk.
fn ancestors_of(g: usize, parents: &[Vec<usize>], marks: &mut [usize]) -> Vec<usize> {
    let mut stack = vec![g];
    let mut out = Vec::new();
    while let Some(next) = stack.pop() {
        match marks.get_mut(next) {
            Some(mark) if *mark != g => *mark = g,
            _ => continue,
        }
        out.push(next);
        stack.extend(parents.get(next).into_iter().flatten().copied());
    }
    out
}

/// Errors under `_meta.hostvars.NAME` belong to host NAME; under another
/// top-level key, to that group.
fn split(steps: &[Step]) -> (Option<String>, Vec<Step>) {
    match steps {
        [Step::Key(meta), Step::Key(hv), Step::Key(host), rest @ ..]
            if meta == "_meta" && hv == "hostvars" =>
        {
            (Some(format!("host `{host}`")), rest.to_vec())
        }
        [Step::Key(meta), ..] if meta == "_meta" => (None, steps.to_vec()),
        [Step::Key(group), rest @ ..] => (Some(format!("group `{group}`")), rest.to_vec()),
        _ => (None, steps.to_vec()),
    }
}

/// The document: host variables and groups, in document order.
struct Document {
    hostvars: Option<Vec<(String, Map<String, Value>)>>,
    groups: Vec<Group>,
}

struct Group {
    name: String,
    hosts: Vec<String>,
    children: Vec<String>,
    has_vars: bool,
}

impl<'de> Deserialize<'de> for Document {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Document, D::Error> {
        deserializer.deserialize_map(DocumentVisitor)
    }
}

struct DocumentVisitor;

impl<'de> Visitor<'de> for DocumentVisitor {
    type Value = Document;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("the object `ansible-inventory --list` writes")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Document, A::Error> {
        let mut hostvars = None;
        let mut groups: Vec<Group> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == "_meta" {
                if hostvars.is_some() {
                    return Err(de::Error::custom("`_meta` appears twice"));
                }
                let meta: Object<Meta> = map.next_value()?;
                hostvars = Some(meta.0.hostvars.0);
            } else {
                let Object(body): Object<GroupBody> = map.next_value()?;
                if groups.iter().any(|g| g.name == key) {
                    return Err(de::Error::custom(format!("group `{key}` appears twice")));
                }
                groups.push(Group {
                    name: key,
                    hosts: body.hosts.into_iter().map(|h| h.0).collect(),
                    children: body.children,
                    has_vars: body.vars.is_some(),
                });
            }
        }
        Ok(Document { hostvars, groups })
    }
}

/// `_meta`: only `hostvars` matters; `profile` and other keys are ignored.
#[derive(serde::Deserialize)]
struct Meta {
    hostvars: HostVars,
}

impl Described for Meta {
    const WHAT: &'static str = "an object with `hostvars`";
}

#[derive(serde::Deserialize)]
struct GroupBody {
    #[serde(default)]
    hosts: Vec<Name>,
    #[serde(default)]
    children: Vec<String>,
    #[serde(default)]
    vars: Option<IgnoredAny>,
}

impl Described for GroupBody {
    const WHAT: &'static str = "a group: an object with `hosts` and `children` lists";
}

/// `_meta.hostvars`, in document order, each host once.
struct HostVars(Vec<(String, Map<String, Value>)>);

impl<'de> Deserialize<'de> for HostVars {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<HostVars, D::Error> {
        struct HostVarsVisitor;
        impl<'de> Visitor<'de> for HostVarsVisitor {
            type Value = HostVars;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping each host to its variables")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HostVars, A::Error> {
                let mut seen: HashSet<String> = HashSet::new();
                let mut out = Vec::new();
                while let Some(name) = map.next_key::<String>()? {
                    if name.is_empty() {
                        return Err(de::Error::custom(
                            "a host name is empty; every host needs a unique, non-empty name",
                        ));
                    }
                    if !seen.insert(name.clone()) {
                        return Err(de::Error::custom(format!("host `{name}` appears twice")));
                    }
                    let vars: Map<String, Value> = map.next_value()?;
                    out.push((name, vars));
                }
                Ok(HostVars(out))
            }
        }
        deserializer.deserialize_map(HostVarsVisitor)
    }
}
