//! Writes the bundled example fleet (`examples/fleet.json`): a few thousand
//! hosts with a realistic shape, generated deterministically.
//!
//! ```text
//! cargo run --example make_fleet -- 3000 > examples/fleet.json
//! cargo run --release --example make_fleet -- 1000000 --jsonl > fleet.jsonl
//! ```
//!
//! With `--jsonl`, one compact host per line (JSON Lines) instead of a
//! pretty-printed array.

use serde_json::{json, Value};

/// A small deterministic generator (SplitMix64): the same fleet everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3000);
    let lines = std::env::args().any(|a| a == "--jsonl");
    let mut rng = Rng(2026);
    let roles = [
        "web", "api", "db", "cache", "worker", "lb", "queue", "search",
    ];
    let regions = [
        "eu-west-1",
        "eu-central-1",
        "us-east-1",
        "us-west-2",
        "ap-south-1",
    ];
    let kernels = [
        "5.15.0-91",
        "5.15.0-100",
        "6.1.0-18",
        "6.8.0-45",
        "6.8.0-49",
    ];
    let mut hosts = Vec::with_capacity(count);
    for i in 0..count {
        let role = rng.pick(&roles);
        let env = match rng.below(100) {
            0..=5 => Some("test"),
            6..=9 => Some("dev"),
            10..=12 => Some("staging"),
            13..=14 => None, // untagged: no tier selects these
            _ => Some("prod"),
        };
        let mut roles_list = vec![role];
        if role == "web" && rng.below(4) == 0 {
            roles_list.push("api");
        }
        let mut tags = serde_json::Map::new();
        if let Some(env) = env {
            tags.insert("env".into(), json!(env));
        }
        tags.insert("region".into(), json!(rng.pick(&regions)));
        tags.insert(
            "cluster".into(),
            json!(format!("{role}-{:02}", rng.below(12))),
        );
        tags.insert(
            "ring".into(),
            json!(if rng.below(50) == 0 { "0" } else { "1" }),
        );
        if rng.below(10) == 0 {
            tags.insert("pci".into(), json!("true"));
        }
        let (family, version) = if rng.below(5) == 0 {
            ("rhel", rng.pick(&["8.9", "9.3", "9.4"]))
        } else {
            ("ubuntu", rng.pick(&["20.04", "22.04", "24.04"]))
        };
        let day = 1 + rng.below(28);
        let month = 8 + rng.below(4);
        let host: Value = json!({
            "name": format!("{role}-{:04}.{}", i, tags["region"].as_str().unwrap_or("x")),
            "roles": roles_list,
            "tags": tags,
            "facts": {
                "os": {"family": family, "version": version},
                "kernel": rng.pick(&kernels),
                "cpus": 2u64 << rng.below(5),
                "last_patched": format!("2026-{month:02}-{day:02}"),
                "reboot_required": rng.below(3) == 0,
            }
        });
        hosts.push(host);
    }
    if lines {
        use std::io::Write;
        let mut out = std::io::BufWriter::new(std::io::stdout().lock());
        for host in &hosts {
            let written = serde_json::to_writer(&mut out, host)
                .map_err(std::io::Error::from)
                .and_then(|()| out.write_all(b"\n"));
            if let Err(e) = written {
                eprintln!("cannot write the fleet: {e}");
                std::process::exit(1);
            }
        }
        if let Err(e) = out.flush() {
            eprintln!("cannot write the fleet: {e}");
            std::process::exit(1);
        }
        return;
    }
    match serde_json::to_string_pretty(&hosts) {
        Ok(text) => println!("{text}"),
        Err(e) => {
            eprintln!("cannot serialize the fleet: {e}");
            std::process::exit(1);
        }
    }
}
