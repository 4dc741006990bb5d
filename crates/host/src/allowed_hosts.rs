//! A component's `allowed_outbound_hosts`: parsing entries and deciding whether a URL may be
//! reached, with Spin's rules.
//!
//! Reference: spinframework/spin `crates/outbound-networking-config/src/allowed_hosts.rs`
//! (`AllowedHostConfig`, `AllowedHostsConfig`, `OutboundUrl`, service chaining helpers), and
//! `crates/factor-outbound-http/src/wasi.rs` (`prepare_request`: which check an outbound HTTP
//! request gets).
//!
//! An entry is `<scheme>://<host>[:<port>]`:
//! - scheme: a name of letters only, or `*` for any;
//! - host: a name or IP (`example.com`, `10.0.0.1`, `[::1]`), `*` for any, `*.example.com` for
//!   any subdomain (not the domain itself), a CIDR block (`10.0.0.0/8`), or `self` /
//!   `self.alt` for requests to the application itself;
//! - port: a number, a range `8000..8010` (end exclusive), or `*`; when omitted the scheme's
//!   well-known port (postgres 5432, mysql 3306, redis 6379, mqtt 1883, http 80, https 443) and
//!   an error for any other scheme.
//!
//! Entries may use `{{ variable }}` templates, expanded at start-up.

use std::{collections::BTreeMap, net::IpAddr, ops::Range};

use anyhow::{Context as _, bail, ensure};
use url::Host;

use crate::{
    manifest::VariableDecl,
    variables::{Resolver, Template},
};

/// The domain of service-chaining hosts (`http://<component>.spin.internal`).
pub const SERVICE_CHAINING_DOMAIN: &str = "spin.internal";
/// `.` + [`SERVICE_CHAINING_DOMAIN`].
pub const SERVICE_CHAINING_DOMAIN_SUFFIX: &str = ".spin.internal";

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Clone, Debug, Eq)]
pub struct AllowedHostConfig {
    original: String,
    scheme: SchemeConfig,
    host: HostConfig,
    port: PortConfig,
}

/// The scheme part of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemeConfig {
    /// `*://`
    Any,
    /// A named scheme.
    List(Vec<String>),
}

/// The host part of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HostConfig {
    /// `*`
    Any,
    /// `*.example.com`, stored as the suffix `.example.com`.
    AnySubdomain(String),
    /// `self` or `self.alt`: requests to the application itself (relative URLs).
    ToSelf,
    /// A single domain name or IP address.
    Literal(Host<String>),
    /// An IP network in CIDR notation.
    Cidr(IpNetwork),
}

/// The port part of an entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PortConfig {
    /// `:*`
    Any,
    /// Specific ports or ranges.
    List(Vec<IndividualPortConfig>),
}

/// One port or port range.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IndividualPortConfig {
    /// A single port.
    Port(u16),
    /// `start..end`, end exclusive (a Rust `Range`, as in Spin).
    Range(Range<u16>),
}

/// An IP network with host bits cleared, as `ip_network::IpNetwork::from_str_truncate` builds
/// it for Spin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNetwork {
    network: IpAddr,
    prefix: u8,
}

impl IpNetwork {
    /// Parses `<ip>/<prefix>` and clears the host bits. A bare address (no `/`) is not a
    /// network, so `10.0.0.1` stays a literal host.
    fn from_str_truncate(s: &str) -> Option<Self> {
        let (ip, prefix) = s.split_once('/')?;
        if ip.is_empty() || prefix.is_empty() {
            return None;
        }
        let prefix: u8 = prefix.parse().ok()?;
        let network = match ip.parse::<IpAddr>().ok()? {
            IpAddr::V4(v4) => {
                if prefix > 32 {
                    return None;
                }
                IpAddr::V4((u32::from(v4) & mask_u32(prefix)).into())
            }
            IpAddr::V6(v6) => {
                if prefix > 128 {
                    return None;
                }
                IpAddr::V6((u128::from(v6) & mask_u128(prefix)).into())
            }
        };
        Some(Self { network, prefix })
    }

    /// Whether `ip` is inside the network (an IPv4 address is never in an IPv6 network and
    /// vice versa).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                u32::from(ip) & mask_u32(self.prefix) == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                u128::from(ip) & mask_u128(self.prefix) == u128::from(net)
            }
            _ => false,
        }
    }
}

fn mask_u32(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_u128(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl AllowedHostConfig {
    /// Parses one (already expanded) entry, with Spin's error messages.
    pub fn parse(url: impl Into<String>) -> anyhow::Result<Self> {
        let original = url.into();
        let url = original.trim();
        let Some((scheme, rest)) = url.split_once("://") else {
            match url {
                "*" | ":" | "" | "?" => bail!(
                    "{url:?} is not an allowed outbound host format.\nHosts must be in the form \
                     <scheme>://<host>[:<port>], with '*' wildcards allowed for each.\nIf you \
                     intended to allow all outbound networking, you can use '*://*:*' - this will \
                     obviate all network sandboxing.\nLearn more: \
                     https://spinframework.dev/v3/http-outbound#granting-http-permissions-to-components"
                ),
                _ => bail!(
                    "{url:?} does not contain a scheme (e.g., 'http://' or '*://')\nLearn more: \
                     https://spinframework.dev/v3/http-outbound#granting-http-permissions-to-components"
                ),
            }
        };
        // The port follows the *last* colon, which is why `http://[::1]` (no port) is an error.
        let (host, rest) = rest.rsplit_once(':').unwrap_or((rest, ""));
        let port = match rest.split_once('/') {
            Some((port, path)) => {
                ensure!(path.is_empty(), "{url:?} has a path but is not allowed to");
                port
            }
            None => rest,
        };

        let port = PortConfig::parse(port, scheme)
            .with_context(|| format!("Invalid allowed host port {port:?}"))?;
        let scheme = SchemeConfig::parse(scheme)
            .with_context(|| format!("Invalid allowed host scheme {scheme:?}"))?;
        let host =
            HostConfig::parse(host).with_context(|| format!("Invalid allowed host {host:?}"))?;
        Ok(Self {
            original,
            scheme,
            host,
            port,
        })
    }

    /// The scheme part.
    pub fn scheme(&self) -> &SchemeConfig {
        &self.scheme
    }

    /// The host part.
    pub fn host(&self) -> &HostConfig {
        &self.host
    }

    /// The port part.
    pub fn port(&self) -> &PortConfig {
        &self.port
    }

    /// Whether this entry names service-chaining hosts (`*.spin.internal` or
    /// `<component>.spin.internal`).
    pub fn is_for_service_chaining(&self) -> bool {
        match &self.host {
            HostConfig::Literal(Host::Domain(domain)) => {
                domain.ends_with(SERVICE_CHAINING_DOMAIN_SUFFIX)
            }
            HostConfig::AnySubdomain(suffix) => suffix == SERVICE_CHAINING_DOMAIN_SUFFIX,
            _ => false,
        }
    }

    fn allows(&self, url: &OutboundUrl) -> bool {
        self.scheme.allows(&url.scheme)
            && self.host.allows(&url.host)
            && self.port.allows(url.port, &url.scheme)
    }

    fn allows_relative(&self, schemes: &[&str]) -> bool {
        schemes.iter().any(|s| self.scheme.allows(s)) && self.host.allows_relative()
    }
}

impl PartialEq for AllowedHostConfig {
    fn eq(&self, other: &Self) -> bool {
        self.scheme == other.scheme && self.host == other.host && self.port == other.port
    }
}

impl std::fmt::Display for AllowedHostConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.original)
    }
}

impl SchemeConfig {
    fn parse(scheme: &str) -> anyhow::Result<Self> {
        if scheme == "*" {
            return Ok(Self::Any);
        }
        if scheme.starts_with('{') {
            bail!("scheme lists are not supported")
        }
        if scheme.chars().any(|c| !c.is_alphabetic()) {
            bail!("only alphabetic characters are allowed");
        }
        Ok(Self::List(vec![scheme.into()]))
    }

    /// Whether any scheme is allowed (`*://`).
    pub fn allows_any(&self) -> bool {
        matches!(self, Self::Any)
    }

    fn allows(&self, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(l) => l.iter().any(|s| s == scheme),
        }
    }
}

impl HostConfig {
    fn parse(host: &str) -> anyhow::Result<Self> {
        let mut host = host.trim();
        if host == "*" {
            return Ok(Self::Any);
        }
        if host == "self" || host == "self.alt" {
            return Ok(Self::ToSelf);
        }
        if host.starts_with('{') {
            ensure!(host.ends_with('}'));
            bail!("host lists are not yet supported")
        }
        if let Some(net) = IpNetwork::from_str_truncate(host) {
            return Ok(Self::Cidr(net));
        }
        host = host.trim_end_matches('/');
        if host.contains('/') {
            bail!("must not include a path");
        }
        if let Some(domain) = host.strip_prefix("*.") {
            if domain.contains('*') {
                bail!("wildcards are allowed only as prefixes");
            }
            return Ok(Self::AnySubdomain(format!(".{domain}")));
        }
        if host.contains('*') {
            bail!("wildcards are allowed only as subdomains");
        }
        Ok(Self::Literal(Host::parse(host)?))
    }

    fn allows(&self, host: &str) -> bool {
        // Spin compares parsed hosts, so `EXAMPLE.com` matches `example.com` and IPv6
        // spellings are normalised.
        let Ok(host) = Host::parse(host) else {
            return false;
        };
        match (self, host) {
            (Self::Any, _) => true,
            (Self::AnySubdomain(suffix), Host::Domain(domain)) => domain.ends_with(suffix.as_str()),
            (Self::Literal(literal), host) => host == *literal,
            (Self::Cidr(net), Host::Ipv4(ip)) => net.contains(ip.into()),
            (Self::Cidr(net), Host::Ipv6(ip)) => net.contains(ip.into()),
            (Self::AnySubdomain(_), _) | (Self::Cidr(_), Host::Domain(_)) => false,
            // Self requests have no host; they are checked with `allows_relative`.
            (Self::ToSelf, _) => false,
        }
    }

    fn allows_relative(&self) -> bool {
        matches!(self, Self::Any | Self::ToSelf)
    }
}

impl PortConfig {
    fn parse(port: &str, scheme: &str) -> anyhow::Result<Self> {
        if port.is_empty() {
            return well_known_port(scheme)
                .map(|p| Self::List(vec![IndividualPortConfig::Port(p)]))
                .with_context(|| {
                    format!(
                        "no port was provided and the scheme {scheme:?} does not have a known \
                         default port number"
                    )
                });
        }
        if port == "*" {
            return Ok(Self::Any);
        }
        if port.starts_with('{') {
            bail!("port lists are not yet supported")
        }
        Ok(Self::List(vec![IndividualPortConfig::parse(port)?]))
    }

    fn allows(&self, port: Option<u16>, scheme: &str) -> bool {
        match self {
            Self::Any => true,
            Self::List(list) => {
                let Some(port) = port.or_else(|| well_known_port(scheme)) else {
                    return false;
                };
                list.iter().any(|p| p.allows(port))
            }
        }
    }
}

impl IndividualPortConfig {
    fn parse(port: &str) -> anyhow::Result<Self> {
        if let Some((start, end)) = port.split_once("..") {
            let start = start
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            let end = end
                .parse()
                .with_context(|| format!("port range {port:?} contains non-number"))?;
            return Ok(Self::Range(start..end));
        }
        Ok(Self::Port(port.parse().with_context(|| {
            format!("port {port:?} is not a number")
        })?))
    }

    fn allows(&self, port: u16) -> bool {
        match self {
            Self::Port(p) => *p == port,
            Self::Range(r) => r.contains(&port),
        }
    }
}

/// The default port Spin assumes for a scheme.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "redis" => Some(6379),
        "mqtt" => Some(1883),
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    }
}

/// One entry before template expansion (`PartialAllowedHostConfig`).
enum Partial {
    Exact(AllowedHostConfig),
    Unresolved(Template),
}

/// Parses literal entries now and defers templated ones (`AllowedHostsConfig::parse_partial`).
fn parse_partial(hosts: &[String]) -> anyhow::Result<Vec<Partial>> {
    if hosts.len() == 1 && hosts[0] == "insecure:allow-all" {
        bail!(
            "'insecure:allow-all' is not allowed - use '*://*:*' instead if you really want to \
             allow all outbound traffic'"
        )
    }
    hosts
        .iter()
        .map(|host| {
            let template = Template::new(host)?;
            Ok(if template.is_literal() {
                Partial::Exact(AllowedHostConfig::parse(host.as_str())?)
            } else {
                Partial::Unresolved(template)
            })
        })
        .collect()
}

/// The load-time check of Spin's loader (`AllowedHostsConfig::validate` with a defaults-only
/// resolver): literal entries must parse; a templated entry is checked only if every variable
/// it uses has a default (otherwise its value is unknown until run time).
pub fn validate_with_defaults(
    hosts: &[String],
    variables: &BTreeMap<String, VariableDecl>,
) -> anyhow::Result<()> {
    for partial in parse_partial(hosts)? {
        let Partial::Unresolved(template) = partial else {
            continue;
        };
        let resolved = template.render(|name| {
            variables
                .get(name)
                .and_then(|v| v.default.clone())
                .ok_or(())
        });
        let Ok(resolved) = resolved else {
            continue;
        };
        AllowedHostConfig::parse(resolved.as_str()).with_context(|| {
            format!(
                "using default variable value(s) with template {:?} results in invalid config \
                 {resolved:?}",
                template.to_string()
            )
        })?;
    }
    Ok(())
}

/// A component's parsed `allowed_outbound_hosts`. An empty list allows nothing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    hosts: Vec<AllowedHostConfig>,
}

impl AllowedHosts {
    /// Expands templates (declared variables only, as Spin's `PreparedResolver`) and parses
    /// every entry. Any invalid entry is an error.
    pub fn parse(entries: &[String], resolver: &Resolver) -> anyhow::Result<Self> {
        let hosts = parse_partial(entries)?
            .into_iter()
            .map(|partial| match partial {
                Partial::Exact(config) => Ok(config),
                Partial::Unresolved(template) => {
                    let resolved = resolver.resolve_declared_template(&template)?;
                    AllowedHostConfig::parse(resolved)
                }
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { hosts })
    }

    /// Parses entries that contain no templates (tests, and callers that expanded them).
    pub fn parse_literal(entries: &[String]) -> anyhow::Result<Self> {
        let hosts = parse_partial(entries)?
            .into_iter()
            .map(|partial| match partial {
                Partial::Exact(config) => Ok(config),
                Partial::Unresolved(template) => {
                    bail!(
                        "allowed host {:?} needs a variable resolver",
                        template.to_string()
                    )
                }
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Self { hosts })
    }

    /// The parsed entries.
    pub fn entries(&self) -> &[AllowedHostConfig] {
        &self.hosts
    }

    /// Spin's `OutboundAllowedHosts::check_url`: may the component reach `url`? When `url` does
    /// not parse as an absolute URL with a host, it is retried as `{scheme}://{url}` (so
    /// `db:5432` with scheme `postgres` works). An unparsable URL is denied.
    ///
    /// Spin's outbound HTTP passes `"https"` as the scheme; sockets pass `"tcp"`/`"udp"`;
    /// outbound PostgreSQL and Redis pass their connection string and `"postgres"`/`"redis"`.
    pub fn allows_url(&self, url: &str, scheme: &str) -> bool {
        match OutboundUrl::parse(url, scheme) {
            Ok(url) => self.hosts.iter().any(|h| h.allows(&url)),
            Err(_) => false,
        }
    }

    /// Spin's `check_relative_url`: may the component make a request with no authority (a
    /// request to its own application) using one of `schemes`? Allowed by a `self`/`self.alt`
    /// or `*` host with a matching scheme.
    pub fn allows_relative_url(&self, schemes: &[&str]) -> bool {
        self.hosts.iter().any(|h| h.allows_relative(schemes))
    }

    /// The check Spin's outbound HTTP makes for a self request (a URL without an authority, or
    /// with the authority `self.alt`): `allows_relative_url(&["http", "https"])`.
    pub fn allows_self(&self) -> bool {
        self.allows_relative_url(&["http", "https"])
    }

    /// Whether an outbound HTTP request to `http://<component_id>.spin.internal/` is allowed,
    /// i.e. whether an entry such as `http://<component_id>.spin.internal` or
    /// `http://*.spin.internal` permits it. (Spin does not special-case service chaining here:
    /// the request URL goes through the ordinary [`Self::allows_url`] check, so an `https://`
    /// chaining URL needs an `https://` entry.)
    pub fn allows_service_chaining_to(&self, component_id: &str) -> bool {
        self.allows_url(
            &format!("http://{component_id}{SERVICE_CHAINING_DOMAIN_SUFFIX}"),
            "http",
        )
    }

    /// Whether any entry names service-chaining hosts (Spin's `local_service_chaining` host
    /// requirement, which only the HTTP trigger supports).
    pub fn requires_service_chaining(&self) -> bool {
        self.hosts
            .iter()
            .any(AllowedHostConfig::is_for_service_chaining)
    }
}

/// A URL as Spin's outbound checks see it (`OutboundUrl`).
#[derive(Clone, Debug)]
struct OutboundUrl {
    scheme: String,
    host: String,
    port: Option<u16>,
}

impl OutboundUrl {
    fn parse(url: &str, scheme: &str) -> anyhow::Result<Self> {
        let mut url = url.to_owned();
        // Spin percent-encodes the userinfo first, so a password containing `#`, `/` or `@`
        // does not derail URL parsing.
        if let Some(at) = url.find('@') {
            let scheme_end = url.find("://").map(|e| e + 3).unwrap_or(0);
            let path_start = url[scheme_end..]
                .find('/')
                .map(|e| e + scheme_end)
                .unwrap_or(usize::MAX);
            if at < path_start {
                let userinfo = &url[scheme_end..at];
                url = format!(
                    "{}{}{}",
                    &url[..scheme_end],
                    urlencode(userinfo),
                    &url[at..]
                );
            }
        }
        let parsed = match url::Url::parse(&url) {
            Ok(parsed) if parsed.has_host() => parsed,
            first_try => match url::Url::parse(&format!("{scheme}://{url}")) {
                Ok(parsed) => parsed,
                // Spin reports the first attempt's error when there is one.
                Err(second) => return Err(first_try.err().unwrap_or(second).into()),
            },
        };
        Ok(Self {
            scheme: parsed.scheme().to_owned(),
            host: parsed
                .host_str()
                .with_context(|| format!("{url:?} does not have a host component"))?
                .to_owned(),
            port: parsed.port(),
        })
    }
}

/// `urlencoding::encode`: everything but ASCII letters, digits and `-_.~` is percent-encoded.
fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for byte in s.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Whether `host` (optionally with `:port`) is a service-chaining host, `<name>.spin.internal`.
pub fn is_service_chaining_host(host: &str) -> bool {
    parse_service_chaining_host(host).is_some()
}

/// The component a service-chaining URL targets (`http://<component>.spin.internal/...` →
/// `<component>`), if it is one.
pub fn parse_service_chaining_target(url: &http::Uri) -> Option<String> {
    let host = url.authority().map(|a| a.host().trim())?;
    parse_service_chaining_host(host)
}

fn parse_service_chaining_host(host: &str) -> Option<String> {
    let (host, _) = host.rsplit_once(':').unwrap_or((host, ""));
    let (first, rest) = host.split_once('.')?;
    (rest == SERVICE_CHAINING_DOMAIN).then(|| first.to_owned())
}

#[cfg(test)]
mod tests {
    use std::{
        net::{Ipv4Addr, Ipv6Addr},
        path::Path,
    };

    use super::*;
    use crate::{manifest::App, variables::EnvProvider};

    fn cfg(scheme: SchemeConfig, host: HostConfig, port: PortConfig) -> AllowedHostConfig {
        AllowedHostConfig {
            original: String::new(),
            scheme,
            host,
            port,
        }
    }
    fn scheme(s: &str) -> SchemeConfig {
        SchemeConfig::List(vec![s.into()])
    }
    fn literal(h: &str) -> HostConfig {
        HostConfig::Literal(Host::parse(h).unwrap())
    }
    fn port(p: u16) -> PortConfig {
        PortConfig::List(vec![IndividualPortConfig::Port(p)])
    }
    fn parse(s: &str) -> AllowedHostConfig {
        AllowedHostConfig::parse(s).unwrap_or_else(|e| panic!("{s}: {e:#}"))
    }
    fn hosts(entries: &[&str]) -> AllowedHosts {
        AllowedHosts::parse_literal(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
            .unwrap()
    }

    // Upstream tests `test_allowed_hosts_accepts_url_without_port` / `_with_port` /
    // `_with_port_range`.
    #[test]
    fn default_and_explicit_ports() {
        assert_eq!(
            parse("http://spin.fermyon.dev"),
            cfg(scheme("http"), literal("spin.fermyon.dev"), port(80))
        );
        // Trailing slash is removed.
        assert_eq!(
            parse("http://spin.fermyon.dev/"),
            cfg(scheme("http"), literal("spin.fermyon.dev"), port(80))
        );
        assert_eq!(
            parse("https://spin.fermyon.dev"),
            cfg(scheme("https"), literal("spin.fermyon.dev"), port(443))
        );
        assert_eq!(
            parse("http://spin.fermyon.dev:4444"),
            cfg(scheme("http"), literal("spin.fermyon.dev"), port(4444))
        );
        assert_eq!(
            parse("http://spin.fermyon.dev:4444/"),
            cfg(scheme("http"), literal("spin.fermyon.dev"), port(4444))
        );
        assert_eq!(
            parse("http://spin.fermyon.dev:4444..5555"),
            cfg(
                scheme("http"),
                literal("spin.fermyon.dev"),
                PortConfig::List(vec![IndividualPortConfig::Range(4444..5555)])
            )
        );
        assert_eq!(
            parse("postgres://db"),
            cfg(scheme("postgres"), literal("db"), port(5432))
        );
        assert_eq!(
            parse("redis://r"),
            cfg(scheme("redis"), literal("r"), port(6379))
        );
        assert_eq!(parse("mysql://m").port(), &port(3306));
        assert_eq!(parse("mqtt://m").port(), &port(1883));
        // No well-known port for this scheme.
        let e = format!("{:#}", AllowedHostConfig::parse("tcp://h").unwrap_err());
        assert!(
            e.contains("does not have a known default port number"),
            "{e}"
        );
    }

    // `test_allowed_hosts_does_not_accept_plain_host_*`, `test_missing_scheme`,
    // `test_allowed_hosts_accepts_localhost_addresses`.
    #[test]
    fn entries_need_a_scheme() {
        for bad in [
            "spin.fermyon.dev",
            "spin.fermyon.dev:80",
            "localhost",
            "localhost:3001",
            "example.com",
        ] {
            let e = AllowedHostConfig::parse(bad).unwrap_err().to_string();
            assert!(e.contains("does not contain a scheme"), "{bad}: {e}");
        }
        for bad in ["*", ":", "", "?"] {
            let e = AllowedHostConfig::parse(bad).unwrap_err().to_string();
            assert!(
                e.contains("is not an allowed outbound host format"),
                "{bad}: {e}"
            );
        }
        assert_eq!(
            parse("http://localhost:3001"),
            cfg(scheme("http"), literal("localhost"), port(3001))
        );
        assert!(AllowedHostConfig::parse("1http://x").is_err());
    }

    // `test_allowed_hosts_accepts_host_with_glob_scheme`, `test_allowed_all_globs`,
    // `test_allowed_hosts_accepts_self`, `test_allowed_hosts_accepts_subdomain_wildcards`.
    #[test]
    fn wildcards_and_self() {
        assert_eq!(
            parse("*://spin.fermyon.dev:7777"),
            cfg(SchemeConfig::Any, literal("spin.fermyon.dev"), port(7777))
        );
        assert_eq!(
            parse("*://*:*"),
            cfg(SchemeConfig::Any, HostConfig::Any, PortConfig::Any)
        );
        assert_eq!(
            parse("http://self"),
            cfg(scheme("http"), HostConfig::ToSelf, port(80))
        );
        assert_eq!(parse("http://self.alt").host(), &HostConfig::ToSelf);
        assert_eq!(
            parse("http://*.example.com"),
            cfg(
                scheme("http"),
                HostConfig::AnySubdomain(".example.com".into()),
                port(80)
            )
        );
        assert!(AllowedHostConfig::parse("http://*.*.example.com").is_err());
        assert!(AllowedHostConfig::parse("http://ex*ample.com").is_err());
        assert!(AllowedHostConfig::parse("{http,https}://x").is_err());
    }

    // `test_allowed_hosts_accepts_ip_addresses`, `test_allowed_hosts_accepts_ip_cidr`.
    #[test]
    fn ip_addresses_and_cidr_blocks() {
        assert_eq!(
            parse("http://192.168.1.1"),
            cfg(scheme("http"), literal("192.168.1.1"), port(80))
        );
        assert_eq!(
            parse("http://192.168.1.1:3002"),
            cfg(scheme("http"), literal("192.168.1.1"), port(3002))
        );
        assert_eq!(
            parse("http://[::1]:8001"),
            cfg(scheme("http"), literal("[::1]"), port(8001))
        );
        assert!(AllowedHostConfig::parse("http://[::1]").is_err());
        assert_eq!(
            parse("*://127.0.0.0/24:80"),
            cfg(
                SchemeConfig::Any,
                HostConfig::Cidr(IpNetwork {
                    network: Ipv4Addr::new(127, 0, 0, 0).into(),
                    prefix: 24
                }),
                port(80)
            )
        );
        assert!(AllowedHostConfig::parse("*://127.0.0.0/24").is_err());
        assert_eq!(
            parse("*://ff00::/8:80"),
            cfg(
                SchemeConfig::Any,
                HostConfig::Cidr(IpNetwork {
                    network: Ipv6Addr::new(0xff00, 0, 0, 0, 0, 0, 0, 0).into(),
                    prefix: 8
                }),
                port(80)
            )
        );
        // Host bits are truncated (`from_str_truncate`).
        assert_eq!(
            parse("*://127.0.0.1/24:63551").host(),
            &HostConfig::Cidr(IpNetwork {
                network: Ipv4Addr::new(127, 0, 0, 0).into(),
                prefix: 24
            })
        );
        assert!(AllowedHostConfig::parse("*://10.0.0.0/33:80").is_err());
    }

    // `test_allowed_hosts_rejects_path`.
    #[test]
    fn paths_are_rejected() {
        assert!(AllowedHostConfig::parse("http://spin.fermyon.dev/").is_ok());
        assert!(AllowedHostConfig::parse("http://spin.fermyon.dev/a").is_err());
        assert!(AllowedHostConfig::parse("http://spin.fermyon.dev:6666/a/b").is_err());
        assert!(AllowedHostConfig::parse("http://*.fermyon.dev/a").is_err());
    }

    // `test_allowed_hosts_respects_allow_all`.
    #[test]
    fn insecure_allow_all_is_rejected() {
        let one = AllowedHosts::parse_literal(&["insecure:allow-all".into()]).unwrap_err();
        assert!(
            one.to_string()
                .contains("'insecure:allow-all' is not allowed")
        );
        assert!(
            AllowedHosts::parse_literal(&["spin.fermyon.dev".into(), "insecure:allow-all".into()])
                .is_err()
        );
    }

    // `test_allowed_hosts_can_be_specific`, `test_allowed_hosts_with_trailing_slash`.
    #[test]
    fn specific_hosts() {
        let allowed = hosts(&["*://spin.fermyon.dev:443", "http://example.com:8383"]);
        assert!(allowed.allows_url("http://example.com:8383/foo/bar", "http"));
        assert!(allowed.allows_url("https://spin.fermyon.dev", "https"));
        assert!(allowed.allows_url("https://spin.fermyon.dev/", "https"));
        assert!(!allowed.allows_url("http://example.com/", "http"));
        assert!(!allowed.allows_url("http://google.com/", "http"));
        // No scheme in the URL: the given scheme is assumed.
        assert!(allowed.allows_url("spin.fermyon.dev:443", "https"));
        assert!(allowed.allows_url("example.com:8383", "http"));

        let allowed = hosts(&["https://my.api.com/"]);
        assert!(allowed.allows_url("https://my.api.com", "https"));
        assert!(allowed.allows_url("https://my.api.com/", "https"));
        // Host comparison is on parsed hosts, so case does not matter.
        assert!(allowed.allows_url("https://MY.API.com/x", "https"));
        assert!(!hosts(&[]).allows_url("https://my.api.com", "https"));
    }

    // `test_allowed_hosts_can_be_subdomain_wildcards`.
    #[test]
    fn subdomain_wildcards() {
        let allowed = hosts(&["http://*.example.com", "http://*.example2.com:8383"]);
        assert!(allowed.allows_url("http://a.example.com/foo/bar", "http"));
        assert!(allowed.allows_url("http://a.b.example.com/foo/bar", "http"));
        assert!(allowed.allows_url("http://a.b.example2.com:8383/foo/bar", "http"));
        assert!(!allowed.allows_url("http://a.b.example2.com/foo/bar", "http"));
        assert!(!allowed.allows_url("http://example.com/foo/bar", "http"));
        assert!(!allowed.allows_url("http://example.com:8383/foo/bar", "http"));
        assert!(!allowed.allows_url("http://myexample.com/foo/bar", "http"));
    }

    // `test_hash_char_in_db_password`, `outbound_url_handles_at_in_paths`.
    #[test]
    fn credentials_in_urls() {
        let allowed = hosts(&["mysql://xyz.com"]);
        assert!(allowed.allows_url("mysql://user:pass#word@xyz.com", "mysql"));
        assert!(allowed.allows_url("mysql://user%3Apass%23word@xyz.com", "mysql"));
        assert!(allowed.allows_url("user%3Apass%23word@xyz.com", "mysql"));
        assert_eq!(
            OutboundUrl::parse("https://example.com/file@0.1.0.json", "https")
                .unwrap()
                .host,
            "example.com"
        );
        assert_eq!(
            OutboundUrl::parse("https://user:pass#word@example.com/f@1.json", "https")
                .unwrap()
                .host,
            "example.com"
        );

        // The project's case: a Postgres URL with credentials and query parameters.
        let pg = hosts(&["postgres://127.0.0.1:5432"]);
        assert!(pg.allows_url(
            "postgres://postgres:p%40ss@127.0.0.1:5432/todo?sslmode=disable",
            "postgres"
        ));
        assert!(pg.allows_url("postgres://postgres@127.0.0.1/todo", "postgres"));
        assert!(!pg.allows_url("postgres://10.9.9.9:5432/todo", "postgres"));
        assert!(!pg.allows_url("postgres://127.0.0.1:5433/todo", "postgres"));
        assert!(!pg.allows_url("not a url at all", "postgres"));
    }

    // `test_cidr`.
    #[test]
    fn cidr_matching() {
        let allowed = hosts(&["*://127.0.0.1/24:63551"]);
        assert!(allowed.allows_url("tcp://127.0.0.1:63551", "tcp"));
        assert!(allowed.allows_url("tcp://127.0.0.200:63551", "tcp"));
        assert!(!allowed.allows_url("tcp://127.0.1.1:63551", "tcp"));
        assert!(!allowed.allows_url("tcp://localhost:63551", "tcp"));
        let v6 = hosts(&["*://fd00::/8:*"]);
        assert!(v6.allows_url("tcp://[fd12::1]:1", "tcp"));
        assert!(!v6.allows_url("tcp://[fe80::1]:1", "tcp"));
    }

    #[test]
    fn port_ranges_and_any_port() {
        let allowed = hosts(&["redis://cache:6000..6380", "http://localhost:*"]);
        assert!(allowed.allows_url("redis://cache:6379", "redis"));
        // The default port 6379 falls in the range.
        assert!(allowed.allows_url("redis://cache", "redis"));
        assert!(!allowed.allows_url("redis://cache:6380", "redis"));
        assert!(allowed.allows_url("http://localhost:3000/x", "http"));
        assert!(allowed.allows_url("http://localhost/x", "http"));
    }

    // `check_relative_url` / `prepare_request` in factor-outbound-http.
    #[test]
    fn self_requests() {
        assert!(hosts(&["http://self"]).allows_self());
        assert!(hosts(&["https://self.alt"]).allows_self());
        assert!(hosts(&["*://*:*"]).allows_self());
        assert!(!hosts(&["http://localhost:3000"]).allows_self());
        assert!(!hosts(&["redis://self"]).allows_self());
        // `self` is never matched as a host name.
        assert!(!hosts(&["http://self"]).allows_url("http://self/x", "http"));
    }

    #[test]
    fn service_chaining() {
        let wildcard = hosts(&["http://*.spin.internal"]);
        assert!(wildcard.allows_service_chaining_to("api"));
        assert!(wildcard.requires_service_chaining());
        let specific = hosts(&["http://audit.spin.internal"]);
        assert!(specific.allows_service_chaining_to("audit"));
        assert!(!specific.allows_service_chaining_to("api"));
        assert!(specific.requires_service_chaining());
        let none = hosts(&["https://example.com"]);
        assert!(!none.allows_service_chaining_to("api"));
        assert!(!none.requires_service_chaining());

        let uri: http::Uri = "http://audit.spin.internal/api/audit".parse().unwrap();
        assert_eq!(
            parse_service_chaining_target(&uri).as_deref(),
            Some("audit")
        );
        let uri: http::Uri = "http://a.b.spin.internal/".parse().unwrap();
        assert_eq!(parse_service_chaining_target(&uri), None);
        // headers.rs `forbidden_headers_are_removed`: with or without a port.
        assert!(is_service_chaining_host("test.spin.internal"));
        assert!(is_service_chaining_host("test.spin.internal:1234"));
        assert!(!is_service_chaining_host("test.example.org"));
    }

    fn app_with_hosts(hosts: &str) -> App {
        App::from_toml_str(
            &format!(
                "spin_manifest_version = 2\n[application]\nname = \"t\"\n\
                 [variables]\ndb_host = {{ default = \"127.0.0.1\" }}\nredis_url = {{ required = true }}\n\
                 [[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n\
                 [component.a]\nsource = \"a.wasm\"\nallowed_outbound_hosts = [{hosts}]\n"
            ),
            Path::new("/app"),
        )
        .unwrap()
    }

    fn resolver(app: &App, env: &[(&str, &str)]) -> Resolver {
        let env = env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Resolver::new(app, vec![Box::new(EnvProvider::from_map(env))]).unwrap()
    }

    // Templates are expanded with the variables' values (`PartialAllowedHostConfig::resolve`).
    #[test]
    fn templates_are_expanded() {
        let app = app_with_hosts("\"postgres://{{ db_host }}:5432\", \"{{ redis_url }}\"");
        let r = resolver(&app, &[("SPIN_VARIABLE_REDIS_URL", "redis://cache:6380")]);
        let allowed = AllowedHosts::parse(&app.components["a"].allowed_outbound_hosts, &r).unwrap();
        assert!(allowed.allows_url("postgres://127.0.0.1:5432/db", "postgres"));
        assert!(allowed.allows_url("redis://cache:6380", "redis"));
        assert!(!allowed.allows_url("redis://cache:6379", "redis"));

        // An override of the default from the environment wins.
        let r = resolver(
            &app,
            &[
                ("SPIN_VARIABLE_REDIS_URL", "redis://c"),
                ("SPIN_VARIABLE_DB_HOST", "10.1.1.1"),
            ],
        );
        let allowed = AllowedHosts::parse(&app.components["a"].allowed_outbound_hosts, &r).unwrap();
        assert!(allowed.allows_url("postgres://10.1.1.1/db", "postgres"));
        assert!(!allowed.allows_url("postgres://127.0.0.1/db", "postgres"));

        // A value that expands to an invalid entry is rejected.
        let r = resolver(&app, &[("SPIN_VARIABLE_REDIS_URL", "cache:6379")]);
        let e = AllowedHosts::parse(&app.components["a"].allowed_outbound_hosts, &r).unwrap_err();
        assert!(e.to_string().contains("does not contain a scheme"), "{e}");
    }

    // `PreparedResolver` knows only declared variables.
    #[test]
    fn templates_may_name_only_declared_variables() {
        let app = app_with_hosts("\"redis://{{ undeclared }}\"");
        let r = resolver(
            &app,
            &[
                ("SPIN_VARIABLE_REDIS_URL", "x"),
                ("SPIN_VARIABLE_UNDECLARED", "cache"),
            ],
        );
        let e = AllowedHosts::parse(&app.components["a"].allowed_outbound_hosts, &r).unwrap_err();
        assert_eq!(e.to_string(), "invalid variable name: undeclared");
    }

    #[test]
    fn parse_literal_refuses_templates() {
        assert!(AllowedHosts::parse_literal(&["redis://{{ x }}".into()]).is_err());
        assert!(AllowedHosts::parse_literal(&["redis://{{ x".into()]).is_err());
    }

    #[test]
    fn allowed_hosts_is_send_sync_debug() {
        fn check<T: std::fmt::Debug + Send + Sync>() {}
        check::<AllowedHosts>();
    }
}
