//! The HTTP side of sessions: the cookie that carries the token, where a request's token comes
//! from, and the CSRF rule for cookie-authenticated requests.
//!
//! CSRF: a browser attaches the cookie to cross-site requests on its own; it does not attach an
//! `Authorization` header. So a request authenticated by `Authorization: Bearer` is exempt, and
//! an unsafe request (anything but GET, HEAD, OPTIONS) authenticated by the cookie must
//! (1) carry an `X-Requested-With` header, which a cross-origin page can only send after a CORS
//! preflight this API never approves, and (2) if it has an `Origin` header, have the origin of
//! `public_base_url`. `SameSite=Lax` on the cookie is a third layer, not relied on alone.

use spin_sdk::http::{Method, Request};

/// The session cookie's name.
pub const COOKIE_NAME: &str = "session";
/// The header a cookie-authenticated unsafe request must carry.
pub const CSRF_HEADER: &str = "x-requested-with";

/// The `Set-Cookie` value that stores `token` for `max_age` seconds. The path is `/api`: only
/// the API reads it.
pub fn session_cookie(token: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={token}; Path=/api; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clearing_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// Where a request's token came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Presented {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// The session cookie.
    Cookie(String),
    /// Neither.
    Nothing,
}

/// The token of a request: the `Authorization: Bearer` header wins over the cookie.
pub fn presented(req: &Request) -> Presented {
    let header = |name: &str| req.header(name).and_then(|v| v.as_str());
    if let Some(auth) = header("authorization") {
        let mut parts = auth.splitn(2, ' ');
        if let (Some(scheme), Some(token)) = (parts.next(), parts.next())
            && scheme.eq_ignore_ascii_case("bearer")
            && !token.trim().is_empty()
        {
            return Presented::Bearer(token.trim().to_owned());
        }
    }
    match header("cookie").and_then(cookie_value) {
        Some(token) => Presented::Cookie(token),
        None => Presented::Nothing,
    }
}

/// The session cookie's value in a `Cookie` header.
fn cookie_value(header: &str) -> Option<String> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == COOKIE_NAME && !value.is_empty())
        .map(|(_, value)| value.to_owned())
}

/// Whether a cookie-authenticated request passes the CSRF rule (see the module docs).
/// `origin` is the request's `Origin` header, `csrf_header` whether `X-Requested-With` was sent.
pub fn csrf_ok(
    method: &Method,
    csrf_header: bool,
    origin: Option<&str>,
    public_base_url: &str,
) -> bool {
    if matches!(method, Method::Get | Method::Head | Method::Options) {
        return true;
    }
    csrf_header && origin.is_none_or(|origin| origin == origin_of(public_base_url))
}

/// `scheme://host[:port]` of a URL, as browsers send it in `Origin`.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_lax_and_secure_on_request() {
        assert_eq!(
            session_cookie("t", 60, false),
            "session=t; Path=/api; Max-Age=60; HttpOnly; SameSite=Lax"
        );
        assert_eq!(
            session_cookie("t", 60, true),
            "session=t; Path=/api; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
        );
        assert!(clearing_cookie(false).starts_with("session=; Path=/api; Max-Age=0;"));
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        assert_eq!(
            cookie_value("a=1; session=tok; b=2"),
            Some("tok".to_owned())
        );
        assert_eq!(cookie_value("sessionx=1; session="), None);
        assert_eq!(cookie_value(""), None);
    }

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder();
        builder.method(Method::Post).uri("/api/auth/me");
        for (name, value) in headers {
            builder.header(*name, *value);
        }
        builder.build()
    }

    #[test]
    fn bearer_wins_over_the_cookie() {
        let req = request(&[("authorization", "Bearer abc"), ("cookie", "session=def")]);
        assert_eq!(presented(&req), Presented::Bearer("abc".to_owned()));
        let req = request(&[("authorization", "Basic x"), ("cookie", "session=def")]);
        assert_eq!(presented(&req), Presented::Cookie("def".to_owned()));
        assert_eq!(presented(&request(&[])), Presented::Nothing);
    }

    #[test]
    fn unsafe_cookie_requests_need_the_header_and_a_matching_origin() {
        let base = "http://127.0.0.1:3000";
        assert!(csrf_ok(
            &Method::Get,
            false,
            Some("https://evil.example"),
            base
        ));
        assert!(!csrf_ok(&Method::Post, false, None, base));
        assert!(csrf_ok(&Method::Post, true, None, base));
        assert!(csrf_ok(
            &Method::Patch,
            true,
            Some("http://127.0.0.1:3000"),
            base
        ));
        assert!(csrf_ok(
            &Method::Delete,
            true,
            Some("http://127.0.0.1:3000"),
            "http://127.0.0.1:3000/app/"
        ));
        assert!(!csrf_ok(
            &Method::Post,
            true,
            Some("https://evil.example"),
            base
        ));
    }
}
