//! Writes the bundled example fleet (`examples/fleet.json`): a few thousand
//! hosts with a realistic shape, generated deterministically, each with a
//! few installed packages at real Debian/Ubuntu or RHEL versions
//! (`facts.packages.NAME`).
//!
//! ```text
//! cargo run --example make_fleet -- 3000 > examples/fleet.json
//! cargo run --release --example make_fleet -- 1000000 --jsonl > fleet.jsonl
//! ```
//!
//! With `--jsonl`, one compact host per line (JSON Lines) instead of a
//! pretty-printed array.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
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

/// Real Debian/Ubuntu and RHEL package versions per OS release, oldest
/// first, as their security updates shipped them.
fn releases(family: &str, version: &str) -> [(&'static str, &'static [&'static str]); 4] {
    match (family, version) {
        ("ubuntu", "20.04") => [
            (
                "openssl",
                &[
                    "1.1.1f-1ubuntu2.19",
                    "1.1.1f-1ubuntu2.20",
                    "1.1.1f-1ubuntu2.22",
                ],
            ),
            (
                "openssh-server",
                &["1:8.2p1-4ubuntu0.9", "1:8.2p1-4ubuntu0.11"],
            ),
            ("libc6", &["2.31-0ubuntu9.14", "2.31-0ubuntu9.16"]),
            ("sudo", &["1.8.31-1ubuntu1.5"]),
        ],
        ("ubuntu", "22.04") => [
            (
                "openssl",
                &[
                    "3.0.2-0ubuntu1.10",
                    "3.0.2-0ubuntu1.12",
                    "3.0.2-0ubuntu1.15",
                    "3.0.2-0ubuntu1.18",
                ],
            ),
            (
                "openssh-server",
                &["1:8.9p1-3ubuntu0.6", "1:8.9p1-3ubuntu0.10"],
            ),
            ("libc6", &["2.35-0ubuntu3.4", "2.35-0ubuntu3.8"]),
            ("sudo", &["1.9.9-1ubuntu2.4"]),
        ],
        ("ubuntu", _) => [
            ("openssl", &["3.0.13-0ubuntu3.1", "3.0.13-0ubuntu3.4"]),
            (
                "openssh-server",
                &["1:9.6p1-3ubuntu13.4", "1:9.6p1-3ubuntu13.5"],
            ),
            ("libc6", &["2.39-0ubuntu8.2", "2.39-0ubuntu8.3"]),
            ("sudo", &["1.9.15p5-3ubuntu5"]),
        ],
        (_, "8.9") => [
            ("openssl", &["1:1.1.1k-9.el8_7", "1:1.1.1k-12.el8_9"]),
            ("openssh-server", &["8.0p1-19.el8_8", "8.0p1-19.el8_9.2"]),
            ("glibc", &["2.28-236.el8_9.7", "2.28-236.el8_9.12"]),
            ("sudo", &["1.9.5p2-1.el8_9"]),
        ],
        _ => [
            (
                "openssl",
                &["1:3.0.7-24.el9", "1:3.0.7-27.el9", "1:3.0.7-28.el9_4"],
            ),
            ("openssh-server", &["8.7p1-34.el9", "8.7p1-38.el9"]),
            ("glibc", &["2.34-83.el9_3.7", "2.34-100.el9_4.2"]),
            ("sudo", &["1.9.5p2-10.el9_3"]),
        ],
    }
}

/// The packages installed on a host of this OS release, with versions.
fn installed(rng: &mut Rng, family: &str, version: &str) -> Value {
    let mut packages = serde_json::Map::new();
    for (name, versions) in releases(family, version) {
        packages.insert(name.into(), json!(rng.pick(versions)));
    }
    Value::Object(packages)
}

fn main() {
    let count: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(3000);
    let lines = std::env::args().any(|a| a == "--jsonl");
    let mut rng = Rng(2026);
    // Package versions come from a generator of their own, so every other
    // value is what it was before packages were added.
    let mut package_rng = Rng(202_611);
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
        let packages = installed(&mut package_rng, family, version);
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
                "package_manager": if family == "rhel" { "rpm" } else { "dpkg" },
                "packages": packages,
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
