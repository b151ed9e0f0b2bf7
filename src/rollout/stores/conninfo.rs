//! PostgreSQL connection strings the libpq way, without ever showing a
//! password.
//!
//! A URL `postgres://[user[:password]@][host][:port][/dbname][?key=value&...]`
//! with the libpq defaults (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`), and a
//! password taken, in this order, from the URL, `PGPASSWORD`, or the
//! password file (`PGPASSFILE`, else `~/.pgpass`; ignored, as libpq does,
//! when others may read it). [`ConnInfo`] displays itself without the
//! password, and [`redact`] removes passwords from any text that might
//! carry one.

use std::fmt;
use std::path::{Path, PathBuf};

/// A parsed connection string.
#[derive(Clone, PartialEq, Eq)]
pub struct ConnInfo {
    /// Host name, address, or a directory holding the server's socket.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Role to connect as.
    pub user: String,
    /// Database.
    pub dbname: String,
    /// Seconds to wait for a connection.
    pub connect_timeout: Option<u64>,
    /// Application name shown by the server.
    pub application_name: Option<String>,
    password: Option<String>,
    password_source: &'static str,
}

/// Why a connection string was refused. Never contains the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the PostgreSQL URL `{url}` {why}")]
pub struct ConnInfoError {
    url: String,
    why: String,
}

impl fmt::Debug for ConnInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ConnInfo({self})")
    }
}

impl fmt::Display for ConnInfo {
    /// `postgres://user@host:port/dbname`: never the password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = if self.host.starts_with('/') {
            encode(&self.host)
        } else if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(
            f,
            "postgres://{}@{host}:{}/{}",
            encode(&self.user),
            self.port,
            encode(&self.dbname)
        )
    }
}

impl ConnInfo {
    /// Parses a `postgres://` or `postgresql://` URL, filling what it
    /// leaves out from the environment as libpq does.
    pub fn parse(url: &str) -> Result<ConnInfo, ConnInfoError> {
        ConnInfo::parse_with(url, &|k| std::env::var(k).ok(), home_dir().as_deref())
    }

    /// [`ConnInfo::parse`] with the environment and home directory given.
    pub fn parse_with(
        url: &str,
        env: &dyn Fn(&str) -> Option<String>,
        home: Option<&Path>,
    ) -> Result<ConnInfo, ConnInfoError> {
        let fail = |why: String| ConnInfoError {
            url: redact(url),
            why,
        };
        let rest = strip_scheme(url)
            .ok_or_else(|| fail("does not start with postgres:// or postgresql://".to_string()))?;
        let (rest, query) = match rest.split_once('?') {
            Some((r, q)) => (r, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match rest.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (rest, None),
        };
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        let (mut user, mut password) = match userinfo {
            Some(u) => match u.split_once(':') {
                Some((u, p)) => (
                    Some(decode(u).map_err(&fail)?),
                    Some(decode(p).map_err(&fail)?),
                ),
                None => (Some(decode(u).map_err(&fail)?), None),
            },
            None => (None, None),
        };
        let (mut host, mut port) = split_host_port(hostport).map_err(&fail)?;
        let mut dbname = match path {
            Some(p) if !p.is_empty() => Some(decode(p).map_err(&fail)?),
            _ => None,
        };
        let mut connect_timeout = None;
        let mut application_name = None;
        for pair in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let value = decode(value).map_err(&fail)?;
            match key {
                "host" => host = Some(value),
                "port" => port = Some(parse_port(&value).map_err(&fail)?),
                "user" => user = Some(value),
                "password" => password = Some(value),
                "dbname" => dbname = Some(value),
                "connect_timeout" => {
                    connect_timeout = Some(value.parse().map_err(|_| {
                        fail(format!("has connect_timeout `{value}`, not whole seconds"))
                    })?);
                }
                "application_name" => application_name = Some(value),
                "sslmode" => match value.as_str() {
                    "disable" | "allow" | "prefer" => {}
                    other => {
                        return Err(fail(format!(
                            "asks for sslmode `{other}`, but this fleetscope connects without TLS; use a local server, an SSH tunnel, or sslmode=disable"
                        )))
                    }
                },
                other => {
                    return Err(fail(format!(
                        "has the parameter `{other}`, which fleetscope does not know (known: host, port, user, password, dbname, connect_timeout, application_name, sslmode)"
                    )))
                }
            }
        }
        let host = host
            .filter(|h| !h.is_empty())
            .or_else(|| env("PGHOST"))
            .unwrap_or_else(|| "localhost".into());
        let port = match port {
            Some(p) => p,
            None => match env("PGPORT") {
                Some(p) => parse_port(&p).map_err(&fail)?,
                None => 5432,
            },
        };
        let user = user
            .filter(|u| !u.is_empty())
            .or_else(|| env("PGUSER"))
            .or_else(|| env("USER"))
            .unwrap_or_else(|| "postgres".into());
        let dbname = dbname
            .or_else(|| env("PGDATABASE"))
            .unwrap_or_else(|| user.clone());
        let mut source = "the URL";
        if password.is_none() {
            if let Some(p) = env("PGPASSWORD") {
                password = Some(p);
                source = "PGPASSWORD";
            }
        }
        if password.is_none() {
            let file = env("PGPASSFILE")
                .map(PathBuf::from)
                .or_else(|| home.map(|h| h.join(".pgpass")));
            if let Some(file) = file {
                if let Some(p) = pgpass_lookup(&file, &host, port, &dbname, &user) {
                    password = Some(p);
                    source = "the password file";
                }
            }
        }
        Ok(ConnInfo {
            host,
            port,
            user,
            dbname,
            connect_timeout,
            application_name,
            password_source: if password.is_some() {
                source
            } else {
                "nowhere"
            },
            password,
        })
    }

    /// The password, for the connection only.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    pub(crate) fn password(&self) -> Option<&str> {
        self.password.as_deref()
    }

    /// Where the password came from (`the URL`, `PGPASSWORD`, `the
    /// password file`, `nowhere`), for messages.
    pub fn password_source(&self) -> &'static str {
        self.password_source
    }
}

fn strip_scheme(url: &str) -> Option<&str> {
    for scheme in ["postgresql://", "postgres://"] {
        if url.len() >= scheme.len()
            && url
                .get(..scheme.len())
                .is_some_and(|s| s.eq_ignore_ascii_case(scheme))
        {
            return url.get(scheme.len()..);
        }
    }
    None
}

fn split_host_port(text: &str) -> Result<(Option<String>, Option<u16>), String> {
    if text.is_empty() {
        return Ok((None, None));
    }
    if let Some(rest) = text.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or_else(|| "has an unclosed `[` in its host".to_string())?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(parse_port(p)?),
            None if after.is_empty() => None,
            None => return Err(format!("has `{after}` after its host")),
        };
        return Ok((Some(host.to_string()), port));
    }
    if text.contains(',') {
        return Err("names several hosts; fleetscope connects to one".into());
    }
    match text.rsplit_once(':') {
        Some((h, p)) => Ok((Some(decode(h)?), Some(parse_port(p)?))),
        None => Ok((Some(decode(text)?), None)),
    }
}

fn parse_port(text: &str) -> Result<u16, String> {
    text.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("has port `{text}`, not a number from 1 to 65535"))
}

fn decode(text: &str) -> Result<String, String> {
    let mut bytes = Vec::with_capacity(text.len());
    let mut it = text.bytes();
    while let Some(b) = it.next() {
        if b == b'%' {
            let hex: Vec<u8> = it.by_ref().take(2).collect();
            let value = std::str::from_utf8(&hex)
                .ok()
                .filter(|h| h.len() == 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| "has a `%` not followed by two hex digits".to_string())?;
            bytes.push(value);
        } else {
            bytes.push(b);
        }
    }
    String::from_utf8(bytes).map_err(|_| "decodes to text that is not UTF-8".to_string())
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn home_dir() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
}

/// The password for these connection parameters from a libpq password file
/// (`hostname:port:database:username:password` lines, `*` matching
/// anything, `\` escaping `:` and `\`). Like libpq, a file that its group
/// or others may read is ignored, and a socket directory matches
/// `localhost`.
fn pgpass_lookup(file: &Path, host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            return None;
        }
    }
    let text = std::fs::read_to_string(file).ok()?;
    let host = if host.starts_with('/') {
        "localhost"
    } else {
        host
    };
    let port = port.to_string();
    for line in text.lines() {
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        let [h, p, d, u, pw] = fields.as_slice() else {
            continue;
        };
        let matches = |field: &str, value: &str| field == "*" || field == value;
        if matches(h, host) && matches(p, &port) && matches(d, dbname) && matches(u, user) {
            return Some(pw.clone());
        }
    }
    None
}

fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(field)) = (chars.next(), fields.last_mut()) {
                    field.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(field) = fields.last_mut() {
                    field.push(c);
                }
            }
        }
    }
    fields
}

/// `text` with every password it may carry replaced by `***`: the
/// `user:password@` part of any URL, and `password=...` parameters.
pub fn redact(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (before, after) = rest.split_at(i + 3);
        out.push_str(before);
        // The authority ends at the first `/`, `?`, `#` or whitespace.
        let end = after
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace())
            .unwrap_or(after.len());
        let (authority, tail) = after.split_at(end);
        match authority.rsplit_once('@') {
            Some((userinfo, host)) => {
                match userinfo.split_once(':') {
                    Some((user, _)) => {
                        out.push_str(user);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push('@');
                out.push_str(host);
            }
            None => out.push_str(authority),
        }
        rest = tail;
    }
    out.push_str(rest);
    redact_parameters(&out)
}

fn redact_parameters(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.to_ascii_lowercase().find("password=") {
        let (before, after) = rest.split_at(i + "password=".len());
        out.push_str(before);
        out.push_str("***");
        let end = after
            .find(|c: char| c == '&' || c.is_whitespace())
            .unwrap_or(after.len());
        rest = after.get(end..).unwrap_or("");
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn a_full_url_parses_and_displays_without_its_password() {
        let c = ConnInfo::parse_with(
            "postgresql://ops:s3cr%40t@db.example:6543/rollouts?application_name=fs",
            &env_of(&[]),
            None,
        )
        .unwrap();
        assert_eq!(c.host, "db.example");
        assert_eq!(c.port, 6543);
        assert_eq!(c.user, "ops");
        assert_eq!(c.dbname, "rollouts");
        assert_eq!(c.password(), Some("s3cr@t"));
        assert_eq!(c.password_source(), "the URL");
        let shown = c.to_string();
        assert_eq!(shown, "postgres://ops@db.example:6543/rollouts");
        assert!(!format!("{c:?}").contains("s3cr"));
    }

    #[test]
    fn defaults_come_from_the_environment_then_pgpass() {
        let c = ConnInfo::parse_with(
            "postgres://",
            &env_of(&[("PGHOST", "pg1"), ("PGUSER", "me"), ("PGPORT", "5433")]),
            None,
        )
        .unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.user.as_str()),
            ("pg1", 5433, "me")
        );
        assert_eq!(c.dbname, "me");
        assert_eq!(c.password(), None);

        let c = ConnInfo::parse_with(
            "postgres://me@pg1/db",
            &env_of(&[("PGPASSWORD", "fromenv")]),
            None,
        )
        .unwrap();
        assert_eq!(c.password(), Some("fromenv"));
        assert_eq!(c.password_source(), "PGPASSWORD");

        let dir = std::env::temp_dir().join(format!("fs-pgpass-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join(".pgpass");
        std::fs::write(
            &file,
            "# comment\nother:*:*:*:nope\npg1:5432:db:me:pa\\:ss\n*:*:*:*:fallback\n",
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let c = ConnInfo::parse_with("postgres://me@pg1/db", &env_of(&[]), Some(&dir)).unwrap();
        assert_eq!(c.password(), Some("pa:ss"));
        assert_eq!(c.password_source(), "the password file");
        let c = ConnInfo::parse_with("postgres://you@pg2/x", &env_of(&[]), Some(&dir)).unwrap();
        assert_eq!(c.password(), Some("fallback"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
            let c = ConnInfo::parse_with("postgres://me@pg1/db", &env_of(&[]), Some(&dir)).unwrap();
            assert_eq!(c.password(), None, "a readable password file is ignored");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn bad_urls_are_refused_without_showing_the_password() {
        for url in [
            "postgres://u:hunter2@h:99999/db",
            "postgres://u:hunter2@h/db?sslmode=require",
            "postgres://u:hunter2@h/db?bogus=1",
            "postgres://u:hunter2@h,h2/db",
            "postgres://u:hunter2@h/d%zz",
        ] {
            let e = ConnInfo::parse_with(url, &env_of(&[]), None).unwrap_err();
            let text = e.to_string();
            assert!(!text.contains("hunter2"), "{text}");
            assert!(text.contains("u:***@h"), "{text}");
        }
    }

    #[test]
    fn redact_removes_url_passwords_and_password_parameters() {
        assert_eq!(
            redact("cannot reach postgres://a:b@c:1/d and postgresql://x@y/z"),
            "cannot reach postgres://a:***@c:1/d and postgresql://x@y/z"
        );
        assert_eq!(
            redact("host=h password=sekrit user=u"),
            "host=h password=*** user=u"
        );
        assert_eq!(
            redact("postgres://h/d?password=p&x=1"),
            "postgres://h/d?password=***&x=1"
        );
        assert_eq!(redact("no secrets here"), "no secrets here");
    }
}
