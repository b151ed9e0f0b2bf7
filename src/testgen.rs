//! Generated fleets, expressions and queries for this crate's tests,
//! benchmarks, examples and fuzz targets. Compiled only with the `testgen`
//! feature, which the crate's dev-dependency on itself turns on for tests,
//! benches and examples; not part of the supported API.
//!
//! - [`vocab`]: the one test vocabulary (roles, tag and fact keys, values,
//!   patterns, literal kinds, named scopes, [`now`]). New values and literal
//!   kinds go there.
//! - [`strategy`]: proptest strategies for expression trees, hosts and
//!   fleets over that vocabulary; new operators go in [`strategy::leaf`].
//! - [`layout`]: random source-text layout of a tree.
//! - [`bytes`]: hosts decoded from fuzzer bytes, over the same vocabulary.
//! - [`wide`]: fleets whose columns have more distinct values than the
//!   pattern-order threshold, and globs and regexes of every shape on them.
//! - This module: a seeded [`Rng`] and a realistic fleet at scale ([`fleet`])
//!   with benchmark [`QUERIES`] and hand-written [`baseline`]s.
//!
//! The realistic shape imitates a real inventory: ~20 roles, ten tag keys
//! with 2 to 5,000 distinct values, a unique name per host, and nested facts
//! with versions (natural, and a Debian/RPM openssl version) and dates. Everything is derived from an explicit seed, so
//! two runs see the same fleet.

use chrono::{DateTime, Utc};

use crate::fleet::Host;
use crate::value::{compare_versions, fact, instant_from_text};
use crate::versions::DpkgVersion;

pub mod bytes;
pub mod layout;
pub mod strategy;
pub mod vocab;
pub mod wide;

pub use vocab::now;

/// A small, fast, seeded generator (SplitMix64); not for cryptography.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator starting from `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        (self.next_u64() % n as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    /// True with probability 1/`n` (always when `n` is 0 or 1).
    pub fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    /// One of `items` (the first when empty is impossible: returns "").
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or("")
    }
}

/// The roles hosts of the realistic fleet hold.
const FLEET_ROLES: &[&str] = &[
    "web", "api", "db", "cache", "queue", "search", "worker", "cron", "proxy", "lb", "dns", "mail",
    "auth", "metrics", "logs", "storage", "ci", "vpn", "bastion", "batch",
];

const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "eu-west-1",
    "eu-west-2",
    "eu-central-1",
    "eu-north-1",
    "ap-south-1",
    "ap-northeast-1",
    "ap-southeast-1",
    "sa-east-1",
];

const PACKAGES: &[&str] = &[
    "openssl",
    "openssh",
    "nginx",
    "postgresql",
    "redis",
    "curl",
    "glibc",
    "systemd",
    "python3",
    "java",
    "nodejs",
    "docker",
    "containerd",
    "haproxy",
    "bind9",
    "postfix",
];

/// `n` hosts of the realistic shape, the same for the same seed; their
/// dates lie in the year before [`now`].
pub fn fleet(n: usize, seed: u64) -> Vec<Host> {
    let mut rng = Rng::new(seed);
    let base = now().date_naive();
    (0..n)
        .map(|i| {
            let role = rng.pick(FLEET_ROLES);
            let mut host = Host::named(format!("{role}-{i:07}"));
            host.roles.push(role.to_string());
            if rng.chance(25) {
                let second = rng.pick(FLEET_ROLES);
                if second != role {
                    host.roles.push(second.to_string());
                }
            }
            let env = match rng.below(100) {
                0..=59 => "prod",
                60..=84 => "staging",
                _ => "dev",
            };
            let region = rng.pick(REGIONS);
            let tags = &mut host.tags;
            tags.insert("env".into(), env.into());
            tags.insert("region".into(), region.into());
            tags.insert(
                "az".into(),
                format!("{region}{}", rng.pick(&["a", "b", "c"])),
            );
            tags.insert("team".into(), format!("team-{:02}", rng.below(40)));
            if rng.chance(90) {
                tags.insert("ring".into(), rng.below(5).to_string());
            }
            tags.insert("owner".into(), format!("owner-{:03}", rng.below(500)));
            tags.insert("cost-center".into(), format!("cc-{:04}", rng.below(2000)));
            tags.insert(
                "app.kubernetes.io/name".into(),
                format!("app-{:04}", rng.below(5000)),
            );
            tags.insert("image".into(), format!("img-{:02}", rng.below(30)));
            if rng.chance(30) {
                tags.insert("pci".into(), rng.pick(&["true", "false"]).into());
            }

            let (family, versions): (&str, &[&str]) = match rng.below(3) {
                0 => ("ubuntu", &["20.04", "22.04", "22.10", "24.04"]),
                1 => ("rhel", &["8.6", "8.8", "9.2", "9.4"]),
                _ => ("debian", &["11", "12"]),
            };
            let kernel = if rng.chance(70) {
                format!("5.15.0-{}", 60 + rng.below(60))
            } else {
                format!("6.8.0-{}", 20 + rng.below(30))
            };
            let day = base - chrono::Days::new(rng.below(365) as u64);
            let packages: Vec<serde_json::Value> = (0..2 + rng.below(3))
                .map(|_| rng.pick(PACKAGES).into())
                .collect();
            let sizes = [2u32, 4, 8, 16, 32, 64];
            let cpus = sizes.get(rng.below(6)).copied().unwrap_or(8);
            let mem_gb = sizes.get(rng.below(6)).copied().unwrap_or(8) * 2;
            // Drawn from a generator of its own, so the facts above stay
            // what they were before package versions were added.
            let mut pkg_rng = Rng::new(seed ^ (i as u64).wrapping_mul(0xA24B_AED4_963E_E407));
            let build = 5 + pkg_rng.below(15);
            let openssl = match family {
                "ubuntu" => format!("3.0.2-0ubuntu1.{build}"),
                "rhel" => format!("1:3.0.7-{build}.el9"),
                _ if pkg_rng.chance(50) => format!("3.0.{build}-1~deb12u1"),
                _ => format!("3.0.11-1~deb12u{build}"),
            };
            let facts = serde_json::json!({
                "package_versions": {"openssl": openssl},
                "os": {"family": family, "version": rng.pick(versions)},
                "kernel": {"version": kernel},
                "last_patched": day.format("%Y-%m-%d").to_string(),
                "cpus": cpus,
                "mem_gb": mem_gb,
                "packages": packages,
            });
            if let serde_json::Value::Object(map) = facts {
                host.facts = map;
            }
            host
        })
        .collect()
}

/// A benchmark query: a name, the scope expression, and what it measures.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// Short name for tables and benchmark ids.
    pub name: &'static str,
    /// The scope expression.
    pub source: &'static str,
}

/// The benchmark queries, each with a hand-written equivalent in
/// [`baseline`].
pub const QUERIES: &[Query] = &[
    Query {
        name: "eq_in_roles_tags",
        source: "tags.env = prod and role in (web, api) and tags.region in (eu-west-1, eu-central-1) and tags.team = team-07",
    },
    Query {
        name: "version_range",
        source: "facts.kernel.version < version(\"5.15.0-91\")",
    },
    Query {
        name: "dpkg_range",
        source: "facts.package_versions.openssl < dpkg(\"3.0.2-0ubuntu1.15\")",
    },
    Query {
        name: "date_range",
        source: "facts.last_patched < now() - 30d",
    },
    Query {
        name: "glob_names",
        source: "name like \"web-00*7\"",
    },
    Query {
        name: "regex_names",
        source: "name matches \"db-0[0-4][0-9]*5\"",
    },
];

fn tag_is(host: &Host, key: &str, test: impl Fn(&str) -> bool) -> bool {
    host.tags.get(key).is_some_and(|v| test(v))
}

fn fact_str<'h>(host: &'h Host, keys: &[String]) -> Option<&'h str> {
    fact(&host.facts, keys)?.as_str()
}

/// The positions of the hosts that the query named `name` selects, by a
/// closure written by hand for this fleet's shape (no scope machinery);
/// `None` for an unknown query.
pub fn baseline(name: &str, hosts: &[Host], now: DateTime<Utc>) -> Option<Vec<u32>> {
    fn run(hosts: &[Host], keep: impl Fn(&Host) -> bool) -> Vec<u32> {
        hosts
            .iter()
            .enumerate()
            .filter(|(_, h)| keep(h))
            .map(|(i, _)| i as u32)
            .collect()
    }
    Some(match name {
        "eq_in_roles_tags" => run(hosts, |h| {
            tag_is(h, "env", |v| v == "prod")
                && h.roles.iter().any(|r| r == "web" || r == "api")
                && tag_is(h, "region", |v| v == "eu-west-1" || v == "eu-central-1")
                && tag_is(h, "team", |v| v == "team-07")
        }),
        "version_range" => {
            let keys = ["kernel".to_string(), "version".to_string()];
            run(hosts, |h| {
                fact_str(h, &keys)
                    .is_some_and(|v| compare_versions(v, "5.15.0-91") == std::cmp::Ordering::Less)
            })
        }
        "dpkg_range" => {
            let keys = ["package_versions".to_string(), "openssl".to_string()];
            let fixed = DpkgVersion::parse("3.0.2-0ubuntu1.15").ok()?;
            run(hosts, |h| {
                fact_str(h, &keys)
                    .and_then(|v| DpkgVersion::parse(v).ok())
                    .is_some_and(|v| v < fixed)
            })
        }
        "date_range" => {
            let keys = ["last_patched".to_string()];
            let cutoff = now - chrono::TimeDelta::days(30);
            run(hosts, |h| {
                fact_str(h, &keys)
                    .and_then(instant_from_text)
                    .is_some_and(|t| t < cutoff)
            })
        }
        "glob_names" => run(hosts, |h| {
            h.name.len() >= 7 && h.name.starts_with("web-00") && h.name.ends_with('7')
        }),
        "regex_names" => {
            let re = regex::Regex::new("^(?:db-0[0-4][0-9]*5)$").ok()?;
            run(hosts, |h| re.is_match(&h.name))
        }
        _ => return None,
    })
}
