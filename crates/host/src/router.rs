//! HTTP routing with Spin's semantics, and the `spin-*` request headers Spin adds.
//!
//! References (spinframework/spin):
//! - `crates/http/src/routes.rs`: route syntax, precedence, duplicates, trailing wildcard.
//!   Spin matches with the `routefinder` crate; this module uses the same crate and version
//!   (0.5.4), so precedence is identical: segment by segment, exact text beats `:param` beats
//!   the `...` wildcard, so exact routes win and longer prefixes beat shorter ones.
//! - `crates/trigger-http/src/headers.rs`: `compute_default_headers` / `prepare_header_key`.
//! - `crates/trigger-http/src/server.rs`: duplicates are logged, not fatal; the last one wins.

use std::{collections::HashMap, fmt, net::SocketAddr};

use anyhow::anyhow;

use crate::manifest::{HttpRoute, HttpTriggerDecl};

/// Paths under this prefix are answered by the host itself (`health`, `info`) and never reach a
/// component (`WELL_KNOWN_PREFIX` in `crates/http/src/lib.rs`).
pub const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// What a route maps to.
#[derive(Clone, Debug)]
struct RouteHandler {
    component_id: String,
    /// The route as Spin stores it: absolutized, one trailing `/` removed (so `/` becomes the
    /// empty string), joined to the (always `/`) base.
    based_route: String,
    /// The route as written in the manifest.
    raw_route: String,
    parsed: ParsedRoute,
}

#[derive(Clone, Debug)]
enum ParsedRoute {
    Exact(String),
    TrailingWildcard(String),
}

impl fmt::Display for ParsedRoute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Exact(path) => write!(f, "{path}"),
            Self::TrailingWildcard(prefix) => write!(f, "{prefix} (wildcard)"),
        }
    }
}

/// A route that another trigger's identical route made unreachable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DuplicateRoute {
    route: String,
    /// The component whose route is never used.
    pub replaced_id: String,
    /// The component that gets the route (the later trigger).
    pub effective_id: String,
}

impl DuplicateRoute {
    /// The duplicated route pattern (`/` for the root route).
    pub fn route(&self) -> &str {
        if self.route.is_empty() {
            "/"
        } else {
            &self.route
        }
    }
}

impl fmt::Display for DuplicateRoute {
    /// The line Spin logs for each duplicate.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} (duplicate of {})",
            self.replaced_id,
            self.route(),
            self.effective_id
        )
    }
}

/// Maps request paths to components.
#[derive(Debug)]
pub struct Router {
    router: routefinder::Router<RouteHandler>,
    duplicates: Vec<DuplicateRoute>,
}

impl Router {
    /// Builds a router from `(route, component id)` pairs in manifest order.
    ///
    /// As in Spin, two triggers with the same route (compared as written) are not an error:
    /// the later one wins and the earlier is recorded in [`Router::duplicates`], which Spin
    /// logs at error level ("The following component routes are duplicates and will never be
    /// used:"). A route that cannot be parsed is an error.
    pub fn build(routes: &[(String, String)]) -> anyhow::Result<Router> {
        struct Entry<'a> {
            based_route: String,
            raw_route: &'a str,
            component_id: &'a str,
        }
        // Spin keeps routes in an `IndexMap` keyed by the raw route: a duplicate replaces the
        // earlier entry in place, keeping the first position.
        let mut entries: Vec<Entry> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        let mut duplicates = Vec::new();
        for (raw_route, component_id) in routes {
            let entry = Entry {
                based_route: sanitize_with_base("/", raw_route),
                raw_route,
                component_id,
            };
            match index.get(raw_route.as_str()) {
                Some(&i) => {
                    let replaced = std::mem::replace(&mut entries[i], entry);
                    duplicates.push(DuplicateRoute {
                        route: replaced.based_route,
                        replaced_id: replaced.component_id.to_owned(),
                        effective_id: component_id.clone(),
                    });
                }
                None => {
                    index.insert(raw_route, entries.len());
                    entries.push(entry);
                }
            }
        }

        let mut router = routefinder::Router::new();
        for entry in entries {
            let (spec, parsed) = parse_route(&entry.based_route).map_err(|e| {
                anyhow!(
                    "Error parsing route {} associated with component {}: {e}",
                    entry.based_route,
                    entry.component_id
                )
            })?;
            router
                .add(
                    spec,
                    RouteHandler {
                        component_id: entry.component_id.to_owned(),
                        based_route: entry.based_route,
                        raw_route: entry.raw_route.to_owned(),
                        parsed,
                    },
                )
                .map_err(|e| anyhow!("{e}"))?;
        }
        Ok(Router { router, duplicates })
    }

    /// Builds a router from the manifest's HTTP triggers, leaving out private ones (Spin's
    /// `{ private = true }` routes are reachable only through service chaining).
    pub fn from_triggers(triggers: &[HttpTriggerDecl]) -> anyhow::Result<Router> {
        let routes: Vec<(String, String)> = triggers
            .iter()
            .filter_map(|t| match &t.route {
                HttpRoute::Route(route) => Some((route.clone(), t.component.clone())),
                HttpRoute::Private => None,
            })
            .collect();
        Self::build(&routes)
    }

    /// Routes that are never used because a later trigger has the same route.
    pub fn duplicates(&self) -> &[DuplicateRoute] {
        &self.duplicates
    }

    /// The routes in matching order, as Spin prints them at start-up: `(route, component id)`,
    /// where a wildcard route reads `/prefix (wildcard)` (and the root route is empty, as the
    /// based route is).
    pub fn routes(&self) -> Vec<(String, String)> {
        self.router
            .iter()
            .map(|(_, h)| (h.parsed.to_string(), h.component_id.clone()))
            .collect()
    }

    /// Whether any route lies under [`WELL_KNOWN_PREFIX`]; Spin logs an error because such
    /// routes are never reached.
    pub fn contains_reserved_route(&self) -> bool {
        self.router
            .iter()
            .any(|(_, h)| h.based_route.starts_with(WELL_KNOWN_PREFIX))
    }

    /// The component for a request path (the URI path, without query, not percent-decoded), or
    /// `None`, for which Spin answers 404 with an empty body.
    pub fn route(&self, path: &str) -> Option<RouteMatch> {
        let best = self.router.best_match(path)?;
        let handler = best.handler();
        let captures = best.captures();
        let named_wildcards = captures
            .params()
            .iter()
            .map(|c| (c.name().to_owned(), c.value().to_owned()))
            .collect();
        // Spin has always kept the trailing slash in the wildcard part; routefinder drops it.
        let trailing_wildcard = match captures.wildcard() {
            None => String::new(),
            Some(s) => match (s.is_empty(), path.ends_with('/')) {
                (true, false) => String::new(),
                (true, true) => "/".to_owned(),
                (false, false) => format!("/{s}"),
                (false, true) => format!("/{s}/"),
            },
        };
        Some(RouteMatch {
            component_id: handler.component_id.clone(),
            based_route: handler.based_route.clone(),
            raw_route: handler.raw_route.clone(),
            named_wildcards,
            trailing_wildcard,
            path: path.to_owned(),
        })
    }
}

/// `Router::parse_route`: `/...` (and routefinder's own `/*`) is a trailing wildcard.
fn parse_route(based_route: &str) -> Result<(routefinder::RouteSpec, ParsedRoute), String> {
    let (spec, parsed) = if let Some(prefix) = based_route.strip_suffix("/...") {
        let spec: routefinder::RouteSpec = format!("{prefix}/*").parse()?;
        (spec, ParsedRoute::TrailingWildcard(prefix.to_owned()))
    } else if let Some(prefix) = based_route.strip_suffix("/*") {
        (
            based_route.parse()?,
            ParsedRoute::TrailingWildcard(prefix.to_owned()),
        )
    } else {
        (
            based_route.parse()?,
            ParsedRoute::Exact(based_route.to_owned()),
        )
    };
    // routefinder accepts a `*` in the middle of a route but panics when matching it; Spin
    // would panic on the first request that reaches the route. Refuse it up front instead.
    let segments = spec.segments();
    if let Some(pos) = segments
        .iter()
        .position(|s| matches!(s, routefinder::Segment::Wildcard))
        && pos + 1 != segments.len()
    {
        return Err("a wildcard (`*` or `...`) must be the last segment of a route".to_owned());
    }
    Ok((spec, parsed))
}

/// `sanitize_with_base`: absolutize the route, then strip one trailing `/` from base and route.
fn sanitize_with_base(base: &str, path: &str) -> String {
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    format!("{}{}", strip_one_slash(base), strip_one_slash(&path))
}

fn strip_one_slash(s: &str) -> &str {
    s.strip_suffix('/').unwrap_or(s)
}

/// The result of routing one path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteMatch {
    component_id: String,
    based_route: String,
    raw_route: String,
    named_wildcards: Vec<(String, String)>,
    trailing_wildcard: String,
    path: String,
}

impl RouteMatch {
    /// The match Spin fabricates for a service-chaining request
    /// (`http://<component>.spin.internal/<path>`): as if the component had the route `/...`,
    /// with the whole path as the trailing wildcard (`RouteMatch::synthetic`).
    pub fn synthetic(component_id: &str, path: &str) -> RouteMatch {
        RouteMatch {
            component_id: component_id.to_owned(),
            based_route: "/...".to_owned(),
            raw_route: "/...".to_owned(),
            named_wildcards: Vec::new(),
            trailing_wildcard: path.to_owned(),
            path: path.to_owned(),
        }
    }

    /// The component that handles the request.
    pub fn component_id(&self) -> &str {
        &self.component_id
    }

    /// The matched route as Spin stores it (absolutized, trailing `/` removed: the route `/`
    /// is the empty string). This is the value of `spin-matched-route`.
    pub fn based_route(&self) -> &str {
        &self.based_route
    }

    /// The matched route exactly as written in the manifest (`spin-raw-component-route`).
    pub fn raw_route(&self) -> &str {
        &self.raw_route
    }

    /// The written route without a trailing `/...` (`spin-component-route`).
    pub fn raw_route_or_prefix(&self) -> &str {
        self.raw_route
            .strip_suffix("/...")
            .unwrap_or(&self.raw_route)
    }

    /// The `:name` parameters captured from the path, in route order.
    pub fn named_wildcards(&self) -> &[(String, String)] {
        &self.named_wildcards
    }

    /// The value of one `:name` parameter.
    pub fn named_wildcard(&self, name: &str) -> Option<&str> {
        self.named_wildcards
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The part of the path matched by a trailing `/...`, starting with `/` and keeping a
    /// trailing `/` (`/foo/...` on `/foo/bar/` gives `/bar/`; on `/foo` it is empty). Empty for
    /// exact routes. This is `spin-path-info`.
    pub fn trailing_wildcard(&self) -> &str {
        &self.trailing_wildcard
    }

    /// The path that was routed.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The headers Spin adds to the request before the component sees it
    /// (`compute_default_headers`, names via `prepare_header_key`), in Spin's order.
    ///
    /// `full_url` is `{scheme}://{host}{path and query}` where the host comes from the `Host`
    /// header (see [`spin_full_url`]); `path` is the request path that was routed (the match
    /// already holds it; it is taken only to keep call sites explicit and is checked in debug
    /// builds). Spin appends these to the request's own headers rather than replacing
    /// same-named ones.
    pub fn spin_headers(
        &self,
        full_url: &str,
        path: &str,
        client_addr: SocketAddr,
    ) -> Vec<(String, String)> {
        debug_assert_eq!(path, self.path, "spin_headers called with another path");
        let mut headers = vec![
            ("spin-path-info".to_owned(), self.trailing_wildcard.clone()),
            ("spin-full-url".to_owned(), full_url.to_owned()),
            ("spin-matched-route".to_owned(), self.based_route.clone()),
            // Spin 3 removed application bases; the base path is always `/`.
            ("spin-base-path".to_owned(), "/".to_owned()),
            (
                "spin-raw-component-route".to_owned(),
                self.raw_route.clone(),
            ),
            (
                "spin-component-route".to_owned(),
                self.raw_route_or_prefix().to_owned(),
            ),
            ("spin-client-addr".to_owned(), client_addr.to_string()),
        ];
        for (name, value) in &self.named_wildcards {
            // `SPIN_PATH_MATCH_{NAME}` upper-cased, then `prepare_header_key` lower-cases it and
            // turns `_` into `-`.
            let key = format!(
                "spin-path-match-{}",
                name.to_ascii_lowercase().replace('_', "-")
            );
            headers.push((key, value.clone()));
        }
        headers
    }
}

/// The `spin-full-url` value: `{scheme}://{host}{path_and_query}` (`compute_default_headers`).
/// `host` is the request's `Host` header (Spin falls back to `localhost` when there is none).
pub fn spin_full_url(scheme: &str, host: Option<&str>, path_and_query: &str) -> String {
    format!("{scheme}://{}{path_and_query}", host.unwrap_or("localhost"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        // (component, route) pairs, as in Spin's tests.
        let pairs: Vec<(String, String)> = routes
            .iter()
            .map(|(component, route)| (route.to_string(), component.to_string()))
            .collect();
        Router::build(&pairs).unwrap()
    }

    fn component(r: &Router, path: &str) -> String {
        r.route(path)
            .unwrap_or_else(|| panic!("{path} should match"))
            .component_id()
            .to_owned()
    }

    // routes.rs `test_router_exact`.
    #[test]
    fn exact_routes() {
        let r = router(&[("foo", "/foo"), ("foobar", "/foo/bar")]);
        assert_eq!(component(&r, "/foo"), "foo");
        assert_eq!(component(&r, "/foo/bar"), "foobar");
        assert!(r.route("/foo/baz").is_none());
        assert!(r.route("/").is_none());
        // routefinder ignores a trailing slash on the path.
        assert_eq!(component(&r, "/foo/"), "foo");
    }

    // `test_router_wildcard`.
    #[test]
    fn wildcard_route() {
        let r = router(&[("all", "/...")]);
        for path in ["/foo/bar", "/abc/", "/", "/this/should/be/captured"] {
            assert_eq!(component(&r, path), "all");
        }
    }

    // `test_router_respects_longest_match` (in both orders) and `test_router_exact_beats_wildcard`.
    #[test]
    fn precedence() {
        for routes in [
            [
                ("one", "/one/..."),
                ("onetwo", "/one/two/..."),
                ("onetwothree", "/one/two/three/..."),
            ],
            [
                ("onetwothree", "/one/two/three/..."),
                ("onetwo", "/one/two/..."),
                ("one", "/one/..."),
            ],
        ] {
            let r = router(&routes);
            assert_eq!(component(&r, "/one/two/three/four"), "onetwothree");
            assert_eq!(component(&r, "/one/two/x"), "onetwo");
            assert_eq!(component(&r, "/one"), "one");
        }
        let r = router(&[("one_exact", "/one"), ("wildcard", "/...")]);
        assert_eq!(component(&r, "/one"), "one_exact");
        assert_eq!(component(&r, "/two"), "wildcard");
        // Exact text beats a parameter, which beats the wildcard.
        let r = router(&[
            ("param", "/users/:id"),
            ("me", "/users/me"),
            ("rest", "/users/..."),
        ]);
        assert_eq!(component(&r, "/users/me"), "me");
        assert_eq!(component(&r, "/users/42"), "param");
        assert_eq!(component(&r, "/users/42/tasks"), "rest");
        assert_eq!(component(&r, "/users"), "rest");
    }

    // `duplicate_routes_are_unreachable`, `duplicate_routes_last_one_wins`,
    // `duplicate_routes_reporting_is_faithful`.
    #[test]
    fn duplicates_last_one_wins_and_are_reported() {
        let r = router(&[
            ("comp-/", "/"),
            ("comp-first /foo", "/foo"),
            ("comp-second /foo", "/foo"),
            ("comp-/whee/...", "/whee/..."),
        ]);
        assert_eq!(r.routes().len(), 3);
        assert_eq!(component(&r, "/foo"), "comp-second /foo");
        assert_eq!(r.duplicates().len(), 1);
        assert_eq!(r.duplicates()[0].replaced_id, "comp-first /foo");
        assert_eq!(r.duplicates()[0].effective_id, "comp-second /foo");
        assert_eq!(
            r.duplicates()[0].to_string(),
            "comp-first /foo: /foo (duplicate of comp-second /foo)"
        );

        let r = router(&[
            ("comp-first /", "/"),
            ("comp-second /", "/"),
            ("comp-first /...", "/..."),
            ("comp-second /...", "/..."),
            ("comp-first /whee/...", "/whee/..."),
            ("comp-second /whee/...", "/whee/..."),
        ]);
        let reported: Vec<_> = r
            .duplicates()
            .iter()
            .map(|d| (d.replaced_id.as_str(), d.route()))
            .collect();
        assert_eq!(
            reported,
            [
                ("comp-first /", "/"),
                ("comp-first /...", "/..."),
                ("comp-first /whee/...", "/whee/...")
            ]
        );
        // Duplicates are compared as written: `/foo` and `/foo/` are distinct entries.
        assert!(
            router(&[("a", "/foo"), ("b", "/foo/")])
                .duplicates()
                .is_empty()
        );
    }

    // `sensible_routes_are_reachable`, `wildcard_routes_use_custom_display`.
    #[test]
    fn route_listing() {
        let r = router(&[
            ("/", "/"),
            ("/foo", "/foo"),
            ("/bar", "/bar"),
            ("/whee/...", "/whee/..."),
        ]);
        assert_eq!(r.routes().len(), 4);
        assert!(r.duplicates().is_empty());
        let r = router(&[("comp", "/whee/...")]);
        assert_eq!(
            r.routes(),
            vec![("/whee (wildcard)".to_string(), "comp".to_string())]
        );
    }

    // `unroutable_routes_are_skipped`.
    #[test]
    fn private_routes_are_not_routable() {
        let triggers = vec![
            HttpTriggerDecl {
                id: "a".into(),
                component: "comp-/".into(),
                route: HttpRoute::Route("/".into()),
            },
            HttpTriggerDecl {
                id: "b".into(),
                component: "comp-private".into(),
                route: HttpRoute::Private,
            },
            HttpTriggerDecl {
                id: "c".into(),
                component: "comp-/whee".into(),
                route: HttpRoute::Route("/whee/...".into()),
            },
        ];
        let r = Router::from_triggers(&triggers).unwrap();
        assert_eq!(r.routes().len(), 2);
        assert!(!r.routes().iter().any(|(_, c)| c == "comp-private"));
    }

    // `trailing_wildcard_is_captured`, `trailing_wildcard_respects_trailing_slash`.
    #[test]
    fn trailing_wildcard() {
        let r = router(&[("comp", "/...")]);
        assert_eq!(r.route("/1/2/3").unwrap().trailing_wildcard(), "/1/2/3");
        let r = router(&[("comp", "/1/...")]);
        assert_eq!(r.route("/1/2/3").unwrap().trailing_wildcard(), "/2/3");

        let r = router(&[("comp", "/test/...")]);
        assert_eq!(r.route("/test").unwrap().trailing_wildcard(), "");
        assert_eq!(r.route("/test/").unwrap().trailing_wildcard(), "/");
        assert_eq!(
            r.route("/test/hello").unwrap().trailing_wildcard(),
            "/hello"
        );
        assert_eq!(
            r.route("/test/hello/").unwrap().trailing_wildcard(),
            "/hello/"
        );
        // Exact routes have no wildcard part.
        let r = router(&[("comp", "/exact")]);
        assert_eq!(r.route("/exact").unwrap().trailing_wildcard(), "");
    }

    // `named_wildcard_is_captured`.
    #[test]
    fn named_wildcards() {
        let r = router(&[("comp", "/1/:two/3")]);
        assert_eq!(r.route("/1/2/3").unwrap().named_wildcard("two"), Some("2"));
        let r = router(&[("comp", "/1/:two/...")]);
        let m = r.route("/1/2/3").unwrap();
        assert_eq!(m.named_wildcard("two"), Some("2"));
        assert_eq!(m.trailing_wildcard(), "/3");
        assert!(r.route("/1").is_none());
    }

    // `reserved_routes_are_reserved`, `unreserved_routes_are_unreserved`.
    #[test]
    fn reserved_routes() {
        assert!(router(&[("comp", "/.well-known/spin/...")]).contains_reserved_route());
        assert!(router(&[("comp", "/.well-known/spin/fie")]).contains_reserved_route());
        assert!(!router(&[("comp", "/.well-known/spindle/...")]).contains_reserved_route());
        assert!(!router(&[("comp", "/.well-known/spi/...")]).contains_reserved_route());
        assert!(!router(&[("comp", "/.well-known/spin")]).contains_reserved_route());
    }

    // `sanitize_with_base`: routes are absolutized and lose one trailing slash.
    #[test]
    fn routes_are_sanitized_like_spin() {
        let r = router(&[("root", "/"), ("rel", "api/tasks"), ("slash", "/x/")]);
        let root = r.route("/").unwrap();
        assert_eq!(root.based_route(), "");
        assert_eq!(root.raw_route(), "/");
        assert_eq!(root.raw_route_or_prefix(), "/");
        let rel = r.route("/api/tasks").unwrap();
        assert_eq!(rel.component_id(), "rel");
        assert_eq!(rel.based_route(), "/api/tasks");
        assert_eq!(rel.raw_route(), "api/tasks");
        assert_eq!(r.route("/x").unwrap().based_route(), "/x");
    }

    #[test]
    fn bad_routes_are_errors() {
        let e = Router::build(&[("/a/:".into(), "c".into())]).unwrap_err();
        assert!(
            e.to_string()
                .contains("Error parsing route /a/: associated with component c"),
            "{e}"
        );
        assert!(Router::build(&[("/a/*/b".into(), "c".into())]).is_err());
    }

    // headers.rs `test_default_headers`.
    #[test]
    fn spin_headers_for_a_wildcard_route() {
        let r = router(&[("DUMMY", "/foo/...")]);
        let m = r.route("/foo/bar").unwrap();
        let client: SocketAddr = "127.0.0.1:8777".parse().unwrap();
        let url = spin_full_url(
            "https",
            Some("fermyon.dev"),
            "/foo/bar?key1=value1&key2=value2",
        );
        assert_eq!(url, "https://fermyon.dev/foo/bar?key1=value1&key2=value2");
        assert_eq!(
            m.spin_headers(&url, "/foo/bar", client),
            vec![
                ("spin-path-info".to_string(), "/bar".to_string()),
                ("spin-full-url".to_string(), url.clone()),
                ("spin-matched-route".to_string(), "/foo/...".to_string()),
                ("spin-base-path".to_string(), "/".to_string()),
                (
                    "spin-raw-component-route".to_string(),
                    "/foo/...".to_string()
                ),
                ("spin-component-route".to_string(), "/foo".to_string()),
                ("spin-client-addr".to_string(), "127.0.0.1:8777".to_string()),
            ]
        );
    }

    // headers.rs `test_default_headers_with_named_wildcards`.
    #[test]
    fn spin_headers_with_named_wildcards() {
        let r = router(&[("DUMMY", "/foo/:userid/...")]);
        let m = r.route("/foo/42/bar").unwrap();
        let client: SocketAddr = "127.0.0.1:8777".parse().unwrap();
        let headers: HashMap<String, String> = m
            .spin_headers(
                "https://fermyon.dev/foo/42/bar?key1=value1",
                "/foo/42/bar",
                client,
            )
            .into_iter()
            .collect();
        assert_eq!(headers["spin-path-info"], "/bar");
        assert_eq!(headers["spin-matched-route"], "/foo/:userid/...");
        assert_eq!(headers["spin-raw-component-route"], "/foo/:userid/...");
        assert_eq!(headers["spin-component-route"], "/foo/:userid");
        assert_eq!(headers["spin-base-path"], "/");
        assert_eq!(headers["spin-path-match-userid"], "42");
        // A `_` in a parameter name becomes `-` in the header name.
        let r = router(&[("c", "/t/:task_id")]);
        let m = r.route("/t/7").unwrap();
        let headers = m.spin_headers("http://h/t/7", "/t/7", client);
        assert_eq!(
            headers.last().unwrap(),
            &("spin-path-match-task-id".to_string(), "7".to_string())
        );
    }

    #[test]
    fn spin_headers_for_root_and_exact_routes() {
        let r = router(&[("root", "/"), ("api", "/api/tasks")]);
        let client: SocketAddr = "[::1]:5000".parse().unwrap();
        let root: HashMap<_, _> = r
            .route("/")
            .unwrap()
            .spin_headers("http://localhost:3000/", "/", client)
            .into_iter()
            .collect();
        // The root route is stored as the empty string, so that is what Spin sends.
        assert_eq!(root["spin-matched-route"], "");
        assert_eq!(root["spin-raw-component-route"], "/");
        assert_eq!(root["spin-component-route"], "/");
        assert_eq!(root["spin-path-info"], "");
        assert_eq!(root["spin-client-addr"], "[::1]:5000");
        assert_eq!(spin_full_url("http", None, "/x"), "http://localhost/x");
    }

    // `RouteMatch::synthetic` for service chaining.
    #[test]
    fn synthetic_match() {
        let m = RouteMatch::synthetic("audit", "/api/audit/events");
        assert_eq!(m.component_id(), "audit");
        let client: SocketAddr = "127.0.0.1:0".parse().unwrap();
        let headers: HashMap<_, _> = m
            .spin_headers(
                "http://audit.spin.internal/api/audit/events",
                "/api/audit/events",
                client,
            )
            .into_iter()
            .collect();
        assert_eq!(headers["spin-path-info"], "/api/audit/events");
        assert_eq!(headers["spin-matched-route"], "/...");
        assert_eq!(headers["spin-raw-component-route"], "/...");
        assert_eq!(headers["spin-component-route"], "");
    }
}
