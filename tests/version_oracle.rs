//! A fresh batch of random version pairs, asked of the real tools when they
//! are installed: `dpkg`, rpm 4.18's `rpm.vercmp` (through `rpm --eval`)
//! and node-semver 7 (through `node`, from `$FLEETSCOPE_SEMVER_DIR` or
//! /tmp/semver-oracle, where `npm install semver@7` put it). A missing tool
//! is reported as SKIPPED on standard output (`cargo test -- --nocapture`
//! shows it); the committed fixtures (`tests/version_fixtures.rs`) run
//! regardless.
//!
//! The seed comes from the clock unless `FLEETSCOPE_ORACLE_SEED` is set,
//! and is printed, so a disagreement can be replayed.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use std::cmp::Ordering;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use fleetscope::testgen::Rng;
use fleetscope::versions::VersionScheme;

fn seed() -> u64 {
    std::env::var("FLEETSCOPE_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        })
}

fn digits(rng: &mut Rng) -> String {
    match rng.below(10) {
        0 => "0".repeat(1 + rng.below(3)) + &rng.below(100).to_string(),
        1 => rng
            .pick(&[
                "18446744073709551616",
                "99999999999999999999999",
                "9007199254740993",
            ])
            .to_string(),
        2..=5 => rng.below(10).to_string(),
        _ => rng.below(1000).to_string(),
    }
}

/// Digit runs joined by pieces drawn from `seps`.
fn part(rng: &mut Rng, seps: &[&str]) -> String {
    let mut out = digits(rng);
    for _ in 0..rng.below(5) {
        out.push_str(rng.pick(seps));
        if rng.chance(70) {
            out.push_str(&digits(rng));
        }
    }
    out
}

fn make(scheme: VersionScheme, rng: &mut Rng) -> String {
    match scheme {
        VersionScheme::Dpkg => {
            let epoch = rng.pick(&["", "", "", "1:", "0:", "02:", "2147483648:", ":", "+1:"]);
            let mut upstream = part(rng, &[".", ".", "~", "+", "-", "a", "Z", "~rc"]);
            if rng.chance(5) {
                upstream.push_str(rng.pick(&["_", ":", " ", "é"]));
            }
            let rev = if rng.chance(50) {
                format!("-{}", part(rng, &[".", "~", "+", "ubuntu", "a"]))
            } else {
                rng.pick(&["", "", "-", "-0"]).to_string()
            };
            format!("{epoch}{upstream}{rev}")
        }
        VersionScheme::Rpm => {
            let epoch = rng.pick(&["", "", "1:", "00:", ":", "18446744073709551616:"]);
            let version = part(rng, &[".", "_", "~", "^", "+", "a", "Z", "é", ".."]);
            let rel = if rng.chance(50) {
                format!("-{}", part(rng, &[".", "el", "~", "^", "_"]))
            } else {
                rng.pick(&["", "", "-", "-~rc1"]).to_string()
            };
            format!("{epoch}{version}{rel}")
        }
        VersionScheme::Semver => {
            let num = |rng: &mut Rng| {
                if rng.chance(5) {
                    rng.pick(&["01", "9007199254740992", "9007199254740991"])
                        .to_string()
                } else {
                    rng.below(4).to_string()
                }
            };
            let mut v = format!("{}.{}.{}", num(rng), num(rng), num(rng));
            if rng.chance(60) {
                let ids: Vec<String> = (0..1 + rng.below(3))
                    .map(|_| {
                        if rng.chance(40) {
                            digits(rng)
                        } else {
                            rng.pick(&["alpha", "beta", "rc", "a", "B", "-", "0a", "x-y", ""])
                                .to_string()
                        }
                    })
                    .collect();
                v = format!("{v}-{}", ids.join("."));
            }
            if rng.chance(20) {
                v.push_str(rng.pick(&["+build", "+1.01", "+", "+a.b"]));
            }
            format!("{}{v}", rng.pick(&["", "", "", "", "v", "=", " "]))
        }
    }
}

fn pairs(scheme: VersionScheme, rng: &mut Rng, n: usize) -> Vec<(String, String)> {
    (0..n)
        .map(|_| {
            let a = make(scheme, rng);
            let b = if rng.chance(40) {
                // Close to `a`: a shared prefix and a small tail.
                let cut = a.char_indices().map(|(i, _)| i).nth(rng.below(a.len() + 1));
                let head = cut.map_or(a.as_str(), |c| &a[..c]);
                format!(
                    "{head}{}",
                    rng.pick(&["~", "^", "a", ".0", "-1", "0", "", "+b", "~rc1"])
                )
            } else {
                make(scheme, rng)
            };
            (a, b)
        })
        .collect()
}

/// (valid a, valid b, order when both are valid), one per pair.
type Answers = Vec<(bool, bool, Option<Ordering>)>;

fn tool_works(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn ask_dpkg(pairs: &[(String, String)]) -> Option<Answers> {
    if !tool_works("dpkg", &["--version"]) {
        return None;
    }
    let ok = |args: &[&str]| tool_works("dpkg", args);
    Some(
        pairs
            .iter()
            .map(|(a, b)| {
                let va = ok(&["--validate-version", "--", a]);
                let vb = ok(&["--validate-version", "--", b]);
                let order = (va && vb).then(|| {
                    if ok(&["--compare-versions", "--", a, "lt", b]) {
                        Ordering::Less
                    } else if ok(&["--compare-versions", "--", a, "eq", b]) {
                        Ordering::Equal
                    } else {
                        Ordering::Greater
                    }
                });
                (va, vb, order)
            })
            .collect(),
    )
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fleetscope-oracle-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn hex(s: &str) -> String {
    s.bytes().map(|b| format!("{b:02x}")).collect()
}

fn ask_rpm(pairs: &[(String, String)]) -> Option<Answers> {
    if !tool_works("rpm", &["--version"]) {
        return None;
    }
    let dir = scratch("rpm");
    let (input, output, script) = (dir.join("in"), dir.join("out"), dir.join("vercmp.lua"));
    let lines: String = pairs
        .iter()
        .map(|(a, b)| format!("{} {}\n", hex(a), hex(b)))
        .collect();
    std::fs::write(&input, lines).unwrap();
    std::fs::write(
        &script,
        format!(
            r#"local function unhex(s) return (s:gsub('..', function(h) return string.char(tonumber(h, 16)) end)) end
local out = io.open({:?}, 'w')
for line in io.lines({:?}) do
  local a, b = line:match('^(%x*) (%x*)$')
  a, b = unhex(a), unhex(b)
  local va, vb = pcall(rpm.vercmp, a, '1'), pcall(rpm.vercmp, b, '1')
  local order = 'x'
  if va and vb then order = tostring(rpm.vercmp(a, b)) end
  out:write(tostring(va), ' ', tostring(vb), ' ', order, '\n')
end
out:close()
"#,
            output.display().to_string(),
            input.display().to_string()
        ),
    )
    .unwrap();
    let status = Command::new("rpm")
        .arg("--eval")
        .arg(format!(
            "%{{lua: dofile({:?})}}",
            script.display().to_string()
        ))
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "rpm --eval failed");
    let text = std::fs::read_to_string(&output).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    Some(
        text.lines()
            .map(|l| {
                let f: Vec<&str> = l.split(' ').collect();
                let order = f[2].parse::<i64>().ok().map(|o| o.cmp(&0));
                (f[0] == "true", f[1] == "true", order)
            })
            .collect(),
    )
}

fn ask_node_semver(pairs: &[(String, String)]) -> Option<Answers> {
    let dir = std::env::var("FLEETSCOPE_SEMVER_DIR").unwrap_or("/tmp/semver-oracle".into());
    let node_path = PathBuf::from(dir).join("node_modules");
    let env_ok = Command::new("node")
        .args([
            "-e",
            "if (!require('semver/package.json').version.startsWith('7.')) process.exit(1)",
        ])
        .env("NODE_PATH", &node_path)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !env_ok {
        return None;
    }
    let script = r#"
const semver = require('semver');
const pairs = JSON.parse(require('fs').readFileSync(0, 'utf8'));
console.log(JSON.stringify(pairs.map(([a, b]) => {
  const va = semver.valid(a) !== null, vb = semver.valid(b) !== null;
  return [va, vb, va && vb ? semver.compare(a, b) : null];
})));"#;
    let mut child = Command::new("node")
        .args(["-e", script])
        .env("NODE_PATH", &node_path)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let input = serde_json::to_string(pairs).unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "node failed");
    let rows: Vec<(bool, bool, Option<i64>)> = serde_json::from_slice(&out.stdout).unwrap();
    Some(
        rows.into_iter()
            .map(|(va, vb, o)| (va, vb, o.map(|o| o.cmp(&0))))
            .collect(),
    )
}

fn check(
    scheme: VersionScheme,
    n: usize,
    ask: fn(&[(String, String)]) -> Option<Answers>,
    tool: &str,
) {
    let seed = seed();
    let mut rng = Rng::new(seed);
    let pairs = pairs(scheme, &mut rng, n);
    let Some(answers) = ask(&pairs) else {
        println!(
            "SKIPPED: {} live check, {tool} is not available",
            scheme.name()
        );
        return;
    };
    assert_eq!(answers.len(), pairs.len());
    let mut disagreements = Vec::new();
    for ((a, b), (va, vb, order)) in pairs.iter().zip(&answers) {
        let ours = (scheme.is_valid(a), scheme.is_valid(b), scheme.compare(a, b));
        if ours != (*va, *vb, *order) {
            disagreements.push(format!(
                "{a:?} vs {b:?}: {tool} says {:?}, we say {ours:?}",
                (va, vb, order)
            ));
        }
    }
    let compared = answers.iter().filter(|a| a.2.is_some()).count();
    assert!(
        disagreements.is_empty(),
        "seed {seed} (FLEETSCOPE_ORACLE_SEED={seed} to replay): {} of {n} {} pairs disagree:\n{}",
        disagreements.len(),
        scheme.name(),
        disagreements.join("\n")
    );
    println!(
        "{}: {n} fresh pairs (seed {seed}, {compared} ordered) agree with {tool}",
        scheme.name()
    );
}

#[test]
fn dpkg_agrees_with_the_installed_dpkg() {
    // Two to four processes per pair: keep the batch small.
    check(VersionScheme::Dpkg, 300, ask_dpkg, "dpkg");
}

#[test]
fn rpm_agrees_with_the_installed_rpm() {
    check(VersionScheme::Rpm, 3000, ask_rpm, "rpm (rpm.vercmp)");
}

#[test]
fn semver_agrees_with_node_semver() {
    check(
        VersionScheme::Semver,
        3000,
        ask_node_semver,
        "node-semver 7",
    );
}
