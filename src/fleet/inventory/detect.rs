//! Which format a JSON document is in, from its shape alone.
//!
//! The rules (docs/fleet.md): a top-level object with a `_meta` key is
//! Ansible; with a `Reservations` key, EC2; a top-level array whose first
//! element is an object with `Reservations` is EC2 (pages), one with both
//! `certname` and `facts` is PuppetDB; anything else is fleetscope's own
//! format, whose reader then reports what is wrong with it.
//!
//! Detection reads as little as it can: the first element of an array, and
//! the top-level keys of an object up to the first decisive one (values are
//! skipped without being built). `{"hosts": [` decides at once, since no
//! other format has an array under a top-level key `hosts` (an Ansible group
//! named `hosts` is an object).

use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::FleetFormat;

/// The format of a JSON document (not JSON Lines: those are fleetscope's).
/// Never fails: a document that fits no other format is
/// [`FleetFormat::Fleetscope`], and reading it as that names the problem.
pub fn detect(bytes: &[u8]) -> FleetFormat {
    let start = skip_space(bytes, 0);
    match bytes.get(start) {
        Some(b'{') => detect_object(bytes, start + 1),
        Some(b'[') => detect_array(bytes, start + 1),
        _ => FleetFormat::Fleetscope,
    }
}

fn skip_space(bytes: &[u8], mut pos: usize) -> usize {
    while bytes.get(pos).is_some_and(u8::is_ascii_whitespace) {
        pos += 1;
    }
    pos
}

/// Reads one JSON value of type `T` at `pos`; returns it and the position
/// after it.
fn one<'de, T: Deserialize<'de>>(bytes: &'de [u8], pos: usize) -> Option<(T, usize)> {
    let rest = bytes.get(pos..)?;
    let mut stream = serde_json::Deserializer::from_slice(rest).into_iter::<T>();
    let value = stream.next()?.ok()?;
    Some((value, pos + stream.byte_offset()))
}

fn detect_object(bytes: &[u8], mut pos: usize) -> FleetFormat {
    loop {
        pos = skip_space(bytes, pos);
        if bytes.get(pos) != Some(&b'"') {
            return FleetFormat::Fleetscope;
        }
        let Some((key, after)) = one::<String>(bytes, pos) else {
            return FleetFormat::Fleetscope;
        };
        pos = skip_space(bytes, after);
        if bytes.get(pos) != Some(&b':') {
            return FleetFormat::Fleetscope;
        }
        pos = skip_space(bytes, pos + 1);
        match key.as_str() {
            "_meta" => return FleetFormat::Ansible,
            "Reservations" => return FleetFormat::Ec2,
            "hosts" if bytes.get(pos) == Some(&b'[') => return FleetFormat::Fleetscope,
            _ => {}
        }
        let Some((IgnoredAny, after)) = one::<IgnoredAny>(bytes, pos) else {
            return FleetFormat::Fleetscope;
        };
        pos = skip_space(bytes, after);
        if bytes.get(pos) != Some(&b',') {
            return FleetFormat::Fleetscope;
        }
        pos += 1;
    }
}

fn detect_array(bytes: &[u8], pos: usize) -> FleetFormat {
    let pos = skip_space(bytes, pos);
    if bytes.get(pos) != Some(&b'{') {
        return FleetFormat::Fleetscope;
    }
    match one::<Keys>(bytes, pos) {
        Some((keys, _)) if keys.reservations => FleetFormat::Ec2,
        Some((keys, _)) if keys.certname && keys.facts => FleetFormat::PuppetDb,
        _ => FleetFormat::Fleetscope,
    }
}

/// Which of the deciding keys an object has; values are skipped.
#[derive(Default)]
struct Keys {
    reservations: bool,
    certname: bool,
    facts: bool,
}

impl<'de> Deserialize<'de> for Keys {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Keys, D::Error> {
        struct KeysVisitor;
        impl<'de> Visitor<'de> for KeysVisitor {
            type Value = Keys;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                let mut keys = Keys::default();
                while let Some(key) = map.next_key::<String>()? {
                    match key.as_str() {
                        "Reservations" => keys.reservations = true,
                        "certname" => keys.certname = true,
                        "facts" => keys.facts = true,
                        _ => {}
                    }
                    map.next_value::<IgnoredAny>()?;
                }
                Ok(keys)
            }
        }
        deserializer.deserialize_map(KeysVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_decide_the_format() {
        let cases: [(&str, FleetFormat); 14] = [
            (
                r#"{"_meta": {"hostvars": {}}, "all": {}}"#,
                FleetFormat::Ansible,
            ),
            (
                r#"{"all": {"children": ["x"]}, "_meta": {}}"#,
                FleetFormat::Ansible,
            ),
            (r#" {"Reservations": []}"#, FleetFormat::Ec2),
            (
                r#"{"NextToken": "a\"b", "Reservations": []}"#,
                FleetFormat::Ec2,
            ),
            (
                r#"[{"Reservations": []}, {"Reservations": []}]"#,
                FleetFormat::Ec2,
            ),
            (
                r#"[{"certname": "a", "facts": {}}, 7]"#,
                FleetFormat::PuppetDb,
            ),
            (r#"[{"certname": "a"}]"#, FleetFormat::Fleetscope),
            (r#"[{"name": "a", "facts": {}}]"#, FleetFormat::Fleetscope),
            (
                r#"{"hosts": [{"name": "a"}], "_meta": 1}"#,
                FleetFormat::Fleetscope,
            ),
            (
                r#"{"hosts": {"hosts": ["a"]}, "_meta": {}}"#,
                FleetFormat::Ansible,
            ),
            ("[]", FleetFormat::Fleetscope),
            ("", FleetFormat::Fleetscope),
            ("42", FleetFormat::Fleetscope),
            (
                r#"{"a": [1, {"b": "}"}], "_meta"  :  {}}"#,
                FleetFormat::Ansible,
            ),
        ];
        for (doc, format) in cases {
            assert_eq!(detect(doc.as_bytes()), format, "{doc}");
        }
    }

    #[test]
    fn broken_documents_fall_back_to_fleetscope() {
        for doc in [
            "{",
            "{\"a\"",
            "{\"a\": ",
            "{\"a\": [1,",
            "{\"a\": 1 \"_meta\": {}}",
            "[{\"certname\": ",
            "{\"a\": 1}",
        ] {
            assert_eq!(detect(doc.as_bytes()), FleetFormat::Fleetscope, "{doc}");
        }
    }

    #[test]
    fn escaped_keys_are_read_as_json_reads_them() {
        assert_eq!(detect(br#"{"_me\u0074a": {}}"#), FleetFormat::Ansible);
    }
}
