//! Hosts decoded from a fuzzer's bytes, over the same vocabulary as the
//! proptest strategies ([`super::vocab`]). Any bytes decode; running out of
//! bytes ends a host list, it is never an error.

use serde_json::{json, Value};

use super::vocab::{json_scalars, FACT_KEYS, HOST_NAMES, INNER_KEYS, ROLES, TAG_KEYS, TEXTS};
use crate::Host;

/// The item of `items` that byte `b` picks (wrapping around).
pub fn pick<T: Copy + Default>(items: &[T], b: u8) -> T {
    items
        .get(usize::from(b) % items.len().max(1))
        .copied()
        .unwrap_or_default()
}

/// A scalar from [`json_scalars`]: every one of them is some byte's pick.
pub fn scalar(b: u8) -> Value {
    let all: Vec<Value> = json_scalars()
        .into_iter()
        .flat_map(|(_, values)| values)
        .collect();
    all.get(usize::from(b) % all.len().max(1))
        .cloned()
        .unwrap_or(Value::Null)
}

/// A fact value from two bytes: a scalar, an array of scalars with an
/// object in it, or an object with an inner key.
pub fn fact(b: u8, c: u8) -> Value {
    match b % 4 {
        0 | 1 => scalar(c),
        2 => json!([
            scalar(c),
            scalar(c.rotate_left(3)),
            object(pick(INNER_KEYS, b / 4), json!(1))
        ]),
        _ => object(pick(INNER_KEYS, b / 4), scalar(c)),
    }
}

/// A host from five bytes: its name, its roles (one bit per role in
/// [`ROLES`]), a tag (none when the high bit is set), a fact key and shape
/// (none when the high bit is set), the fact's value. `None` when the bytes
/// run out.
pub fn host(bytes: &mut impl Iterator<Item = u8>) -> Option<Host> {
    let mut next = || bytes.next();
    let (n, r, t, f, v) = (next()?, next()?, next()?, next()?, next()?);
    let mut host = Host::named(pick(HOST_NAMES, n));
    for (bit, role) in ROLES.iter().enumerate().take(8) {
        if r & (1 << bit) != 0 {
            host.roles.push((*role).to_string());
        }
    }
    if t & 0x80 == 0 {
        host.tags.insert(
            pick(TAG_KEYS, t).to_string(),
            pick(TEXTS, t >> 2).to_string(),
        );
    }
    if f & 0x80 == 0 {
        host.facts
            .insert(pick(FACT_KEYS, f).to_string(), fact(f >> 2, v));
    }
    Some(host)
}

fn object(key: &str, value: Value) -> Value {
    let mut object = serde_json::Map::new();
    object.insert(key.to_string(), value);
    Value::Object(object)
}
