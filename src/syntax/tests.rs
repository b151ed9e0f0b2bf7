use super::*;

#[test]
fn probe() {
    for src in ["role = web and tags.env = prod", "role == web", "role = web && x = 1", "(role = web", "role = web adn tags.env = prod",
        "Role = web", "roles = web", "env = prod", "role in web", "name like db-*", "x = 1.2.3", "role = all", "role in (a b)",
        "name matches \"\\d+\"", "facts.a < true", "tags.\"app.kubernetes.io/name\" = x", "facts.last_patched < now() - 30d",
        "not not role = web", "@canary or (tags.ring = \"1\" and tags.region != us-east-1)", "role = 'unterminated",
        "x = 2026-13-45", "role matchs \"x\"", "role = web)", "", "   # only comment", "role = \"\\u{1F600}\"", "role in (a, b,)",
        "name = 99999999999999999999999999999999999999999", "facts.x = 2.5", "facts.x = version(\"1.2\")"] {
        match parse(src) {
            Ok(e) => println!("OK  {src:?} => {e}"),
            Err(e) => println!("ERR {src:?}\n{}", e.render(src, "expr")),
        }
    }
}
