//! What to answer for a request: the asset or the app shell, its representation, and the
//! headers that make browsers cache it correctly. Pure, so it is tested natively.

use crate::assets::{Asset, find};
use crate::encoding::{Encoding, negotiate};

/// Vite puts every built file whose name carries a content hash here; nothing else lives here.
const HASHED_PREFIX: &str = "/assets/";

/// A hashed file never changes under its name, so browsers may keep it for a year unasked.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The app shell (and the other unhashed files) must be revalidated on every use, so a new
/// deploy reaches users on their next load; the ETag makes that a cheap 304.
const REVALIDATE: &str = "no-cache";

/// The page runs only its own bundled script and talks only to its own origin (the API).
/// React sets `style` through the CSSOM, which `style-src 'self'` allows.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
    style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
    base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// The request, as far as serving files cares.
#[derive(Debug, Default, Clone, Copy)]
pub struct FileRequest<'a> {
    /// The method, upper case.
    pub method: &'a str,
    /// The path, possibly with a query string.
    pub path: &'a str,
    /// `Accept-Encoding`.
    pub accept_encoding: Option<&'a str>,
    /// `If-None-Match`.
    pub if_none_match: Option<&'a str>,
}

/// The response to send.
#[derive(Debug)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, in order.
    pub headers: Vec<(&'static str, String)>,
    /// The body (empty for `HEAD`, 304 and 405).
    pub body: &'static [u8],
}

impl Reply {
    /// The first value of a header, by its lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Answers `request` from `assets`.
///
/// - `GET`/`HEAD` only (405 with `Allow` otherwise).
/// - `/` is `index.html`; a path naming a built file gets that file.
/// - A missing file under `/assets/` is a 404: answering a stale chunk's URL with HTML would
///   only turn a clear network error into a confusing script error.
/// - Paths under `/api` are never the app's: a 404 problem+json (they reach this component
///   only when the `api` component is not deployed beside it).
/// - Any other path is a client-side route: it gets `index.html`, and the app routes it.
pub fn respond(assets: &'static [Asset], request: FileRequest<'_>) -> Reply {
    let is_head = request.method == "HEAD";
    if request.method != "GET" && !is_head {
        return Reply {
            status: 405,
            headers: vec![("allow", "GET, HEAD".into())],
            body: b"",
        };
    }
    let path = request.path.split(['?', '#']).next().unwrap_or("/");
    if path == "/api" || path.starts_with("/api/") {
        return not_found(
            "application/problem+json",
            br#"{"type":"about:blank","title":"Not Found","status":404}"#,
            is_head,
        );
    }
    let wanted = if path == "/" { "/index.html" } else { path };
    let asset = match find(assets, wanted) {
        Some(asset) => asset,
        None if path.starts_with(HASHED_PREFIX) => {
            return not_found("text/plain; charset=utf-8", b"Not Found\n", is_head);
        }
        None => find(assets, "/index.html").expect("build.rs checks the app has an index.html"),
    };

    let encoding = negotiate(
        request.accept_encoding,
        asset.br.is_some(),
        asset.gzip.is_some(),
    );
    let (body, etag) = match encoding {
        Encoding::Brotli => (asset.br.unwrap_or_default(), variant_etag(asset.etag, "br")),
        Encoding::Gzip => (
            asset.gzip.unwrap_or_default(),
            variant_etag(asset.etag, "gz"),
        ),
        Encoding::Identity => (asset.identity, asset.etag.to_owned()),
    };
    let cache_control = if asset.path.starts_with(HASHED_PREFIX) {
        IMMUTABLE
    } else {
        REVALIDATE
    };

    let mut headers = vec![
        ("cache-control", cache_control.to_owned()),
        ("etag", etag.clone()),
    ];
    if asset.br.is_some() || asset.gzip.is_some() {
        headers.push(("vary", "Accept-Encoding".into()));
    }
    if request
        .if_none_match
        .is_some_and(|tags| matches_any(tags, &etag))
    {
        return Reply {
            status: 304,
            headers,
            body: b"",
        };
    }
    headers.push(("content-type", asset.content_type.to_owned()));
    if let Some(token) = encoding.token() {
        headers.push(("content-encoding", token.to_owned()));
    }
    headers.push(("x-content-type-options", "nosniff".into()));
    if asset.content_type.starts_with("text/html") {
        headers.push(("content-security-policy", CONTENT_SECURITY_POLICY.into()));
        headers.push(("referrer-policy", "same-origin".into()));
    }
    Reply {
        status: 200,
        headers,
        body: if is_head { b"" } else { body },
    }
}

fn not_found(content_type: &str, body: &'static [u8], is_head: bool) -> Reply {
    Reply {
        status: 404,
        headers: vec![
            ("content-type", content_type.to_owned()),
            ("cache-control", "no-store".into()),
        ],
        body: if is_head { b"" } else { body },
    }
}

/// Each representation has its own strong ETag (RFC 9110, section 8.8.3.3).
fn variant_etag(etag: &str, suffix: &str) -> String {
    format!("{}-{suffix}\"", etag.trim_end_matches('"'))
}

/// `If-None-Match` uses the weak comparison: `W/` is ignored; `*` matches anything.
fn matches_any(if_none_match: &str, etag: &str) -> bool {
    if_none_match
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag.strip_prefix("W/").unwrap_or(tag) == etag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assets::ASSETS;

    /// A small table with the shapes the real build produces.
    static TABLE: &[Asset] = &[
        Asset {
            path: "/assets/index-abc123.js",
            content_type: "text/javascript; charset=utf-8",
            etag: "\"js1\"",
            identity: b"console.log('app')",
            br: Some(b"BR"),
            gzip: Some(b"GZ"),
        },
        Asset {
            path: "/assets/logo-def456.png",
            content_type: "image/png",
            etag: "\"png1\"",
            identity: b"PNG",
            br: None,
            gzip: None,
        },
        Asset {
            path: "/favicon.svg",
            content_type: "image/svg+xml",
            etag: "\"svg1\"",
            identity: b"<svg/>",
            br: None,
            gzip: Some(b"GZSVG"),
        },
        Asset {
            path: "/index.html",
            content_type: "text/html; charset=utf-8",
            etag: "\"html1\"",
            identity: b"<!doctype html>",
            br: Some(b"BRHTML"),
            gzip: Some(b"GZHTML"),
        },
    ];

    fn get(path: &str) -> Reply {
        respond(
            TABLE,
            FileRequest {
                method: "GET",
                path,
                ..Default::default()
            },
        )
    }

    #[test]
    fn the_root_and_unknown_app_paths_get_the_shell_which_is_revalidated_every_time() {
        for path in ["/", "/tasks", "/tasks/5?tab=x", "/settings/", "/deep/a/b"] {
            let reply = get(path);
            assert_eq!(reply.status, 200, "{path}");
            assert_eq!(reply.body, b"<!doctype html>", "{path}");
            assert_eq!(reply.header("cache-control"), Some("no-cache"), "{path}");
            assert_eq!(
                reply.header("content-type"),
                Some("text/html; charset=utf-8")
            );
            assert!(reply.header("content-security-policy").is_some());
            assert_eq!(reply.header("etag"), Some("\"html1\""));
        }
    }

    #[test]
    fn hashed_assets_are_immutable_for_a_year_with_their_type() {
        let reply = get("/assets/index-abc123.js");
        assert_eq!(reply.status, 200);
        assert_eq!(reply.body, b"console.log('app')");
        assert_eq!(
            reply.header("cache-control"),
            Some("public, max-age=31536000, immutable")
        );
        assert_eq!(
            reply.header("content-type"),
            Some("text/javascript; charset=utf-8")
        );
        assert_eq!(reply.header("x-content-type-options"), Some("nosniff"));
        assert_eq!(reply.header("content-security-policy"), None);
    }

    #[test]
    fn a_missing_hashed_asset_is_404_not_the_shell() {
        let reply = get("/assets/index-old999.js");
        assert_eq!(reply.status, 404);
        assert_eq!(reply.header("cache-control"), Some("no-store"));
    }

    #[test]
    fn api_paths_are_never_answered_with_the_app() {
        for path in ["/api", "/api/", "/api/tasks", "/api/nope?x=1"] {
            let reply = get(path);
            assert_eq!(reply.status, 404, "{path}");
            assert_eq!(
                reply.header("content-type"),
                Some("application/problem+json")
            );
        }
        // A path that only starts with the letters is the app's.
        assert_eq!(get("/apiary").status, 200);
        assert_eq!(get("/apiary").body, b"<!doctype html>");
    }

    #[test]
    fn compressed_variants_are_sent_when_accepted_with_their_own_etag() {
        let request = |accept: &str| {
            respond(
                TABLE,
                FileRequest {
                    method: "GET",
                    path: "/assets/index-abc123.js",
                    accept_encoding: Some(accept),
                    if_none_match: None,
                },
            )
        };
        let gz = request("gzip, deflate");
        assert_eq!(gz.body, b"GZ");
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
        assert_eq!(gz.header("vary"), Some("Accept-Encoding"));
        assert_eq!(gz.header("etag"), Some("\"js1-gz\""));
        let br = request("gzip, deflate, br");
        assert_eq!(br.body, b"BR");
        assert_eq!(br.header("content-encoding"), Some("br"));
        assert_eq!(br.header("etag"), Some("\"js1-br\""));
        let plain = request("identity");
        assert_eq!(plain.body, b"console.log('app')");
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    }

    #[test]
    fn files_without_variants_are_sent_as_built_without_vary() {
        let reply = respond(
            TABLE,
            FileRequest {
                method: "GET",
                path: "/assets/logo-def456.png",
                accept_encoding: Some("br, gzip"),
                if_none_match: None,
            },
        );
        assert_eq!(reply.body, b"PNG");
        assert_eq!(reply.header("content-encoding"), None);
        assert_eq!(reply.header("vary"), None);
        assert_eq!(reply.header("content-type"), Some("image/png"));
    }

    #[test]
    fn a_matching_if_none_match_is_a_304_without_body() {
        let revalidate = |tags: &str, accept: Option<&str>| {
            respond(
                TABLE,
                FileRequest {
                    method: "GET",
                    path: "/",
                    accept_encoding: accept,
                    if_none_match: Some(tags),
                },
            )
        };
        let reply = revalidate("\"html1\"", None);
        assert_eq!(reply.status, 304);
        assert!(reply.body.is_empty());
        assert_eq!(reply.header("etag"), Some("\"html1\""));
        assert_eq!(reply.header("cache-control"), Some("no-cache"));
        assert_eq!(
            revalidate("\"x\", W/\"html1-gz\"", Some("gzip")).status,
            304
        );
        assert_eq!(revalidate("*", None).status, 304);
        // The identity ETag does not validate the gzip representation.
        assert_eq!(revalidate("\"html1\"", Some("gzip")).status, 200);
        assert_eq!(revalidate("\"stale\"", None).status, 200);
    }

    #[test]
    fn head_has_the_headers_of_get_and_no_body_and_other_methods_are_405() {
        let head = respond(
            TABLE,
            FileRequest {
                method: "HEAD",
                path: "/favicon.svg",
                accept_encoding: Some("gzip"),
                if_none_match: None,
            },
        );
        assert_eq!(head.status, 200);
        assert!(head.body.is_empty());
        assert_eq!(head.header("content-type"), Some("image/svg+xml"));
        assert_eq!(head.header("content-encoding"), Some("gzip"));
        for method in ["POST", "PUT", "DELETE", "PATCH"] {
            let reply = respond(
                TABLE,
                FileRequest {
                    method,
                    path: "/",
                    ..Default::default()
                },
            );
            assert_eq!(reply.status, 405, "{method}");
            assert_eq!(reply.header("allow"), Some("GET, HEAD"));
        }
    }

    #[test]
    fn the_real_build_has_a_shell_that_loads_only_hashed_assets_it_embeds() {
        let shell = find(ASSETS, "/index.html").expect("index.html");
        let html = std::str::from_utf8(shell.identity).unwrap();
        let mut referenced = 0;
        for attr in ["src=\"", "href=\""] {
            for piece in html.split(attr).skip(1) {
                let url = piece.split('"').next().unwrap();
                if url.starts_with("/assets/") {
                    referenced += 1;
                    assert!(find(ASSETS, url).is_some(), "{url} is not embedded");
                }
            }
        }
        assert!(
            referenced >= 2,
            "the shell loads a script and a stylesheet: {html}"
        );
        assert!(
            ASSETS.windows(2).all(|w| w[0].path < w[1].path),
            "sorted for binary search"
        );
        for asset in ASSETS.iter().filter(|a| a.path.ends_with(".js")) {
            let gzip = asset.gzip.expect("scripts compress well");
            assert!(gzip.len() * 2 < asset.identity.len(), "{}", asset.path);
        }
    }
}
