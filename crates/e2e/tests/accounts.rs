//! Accounts and sessions through the real `spin.toml` and `api.wasm`: registration, login,
//! logout revocation, the profile, login throttling and the CSRF rule for cookie-authenticated
//! requests. Each test gets a fresh database, and counts rows to show that a rejected request
//! changed nothing.

use e2e::{TestApp, TestDb, pg};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The `name=value` pair of the session cookie this reply sets.
    fn session_cookie(&self) -> String {
        let set_cookie = self.header("set-cookie").expect("a Set-Cookie header");
        set_cookie.split(';').next().unwrap().to_owned()
    }

    fn assert_problem(&self, status: u16) {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], json!(status));
    }

    fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct Api {
    base: String,
    client: Client,
    db: TestDb,
}

async fn start(app: impl FnOnce(TestApp) -> TestApp) -> Api {
    let db = TestDb::create().await.unwrap();
    let app = app(TestApp::new(&db.url()));
    app.migrate().await.unwrap();
    let base = app.serve(&["api"]).await.unwrap();
    Api {
        base,
        client: Client::new(),
        db,
    }
}

impl Api {
    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn register(&self, body: Value) -> Reply {
        self.send(Method::POST, "/api/auth/register", Some(body), &[])
            .await
    }

    async fn login(&self, email: &str, password: &str) -> Reply {
        self.send(
            Method::POST,
            "/api/auth/login",
            Some(json!({"email": email, "password": password})),
            &[],
        )
        .await
    }

    async fn me_bearer(&self, token: &str) -> Reply {
        self.send(
            Method::GET,
            "/api/auth/me",
            None,
            &[("authorization", &format!("Bearer {token}"))],
        )
        .await
    }

    async fn count(&self, sql: &str) -> i64 {
        pg(&self.db.url())
            .await
            .unwrap()
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }
}

const PASSWORD: &str = "correct horse battery";

async fn registered(api: &Api, email: &str) -> Reply {
    let reply = api
        .register(json!({"email": email, "password": PASSWORD, "name": "Ada", "timezone": "Europe/Paris"}))
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    reply
}

#[tokio::test]
async fn register_creates_the_user_and_a_session_cookie() {
    let api = start(|app| app).await;
    let started = std::time::Instant::now();
    let reply = registered(&api, "  Ada@Example.COM ").await;
    eprintln!("register (one argon2id hash) took {:?}", started.elapsed());

    let user = &reply.body["user"];
    assert_eq!(user["email"], json!("ada@example.com"));
    assert_eq!(user["name"], json!("Ada"));
    assert_eq!(user["timezone"], json!("Europe/Paris"));
    assert!(user["id"].as_str().unwrap().len() == 36);
    assert!(user["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(user.get("password_hash").is_none());

    let set_cookie = reply.header("set-cookie").unwrap();
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/api", "Max-Age=1209600"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");

    let stored: String = pg(&api.db.url())
        .await
        .unwrap()
        .query_one("SELECT password_hash FROM users", &[])
        .await
        .unwrap()
        .get(0);
    assert!(
        stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
        "{stored}"
    );

    // The cookie alone authenticates a safe request.
    let me = api
        .send(
            Method::GET,
            "/api/auth/me",
            None,
            &[("cookie", &reply.session_cookie())],
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], json!("ada@example.com"));
}

#[tokio::test]
async fn the_cookie_is_secure_when_cookie_secure_is_true() {
    let api = start(|app| app.var("cookie_secure", "true")).await;
    let reply = registered(&api, "ada@example.com").await;
    assert!(reply.header("set-cookie").unwrap().ends_with("; Secure"));
}

#[tokio::test]
async fn a_taken_email_is_409_in_any_case() {
    let api = start(|app| app).await;
    registered(&api, "ada@example.com").await;
    let reply = api
        .register(json!({"email": "ADA@example.com", "password": "another password"}))
        .await;
    reply.assert_problem(409);
    assert_eq!(reply.error_fields(), ["email"]);
    assert!(reply.header("set-cookie").is_none());
    assert_eq!(api.count("SELECT count(*) FROM users").await, 1);
    assert_eq!(api.count("SELECT count(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn each_invalid_field_is_422_naming_it_and_creates_nothing() {
    let api = start(|app| app).await;
    let cases = [
        (
            json!({"email": "not-an-email", "password": PASSWORD}),
            vec!["email"],
        ),
        (
            json!({"email": "a@example.com", "password": "short"}),
            vec!["password"],
        ),
        (
            json!({"email": "a@example.com", "password": PASSWORD, "timezone": "Mars/Olympus"}),
            vec!["timezone"],
        ),
        (
            json!({"email": "a@", "password": "1234567", "timezone": "Nowhere"}),
            vec!["email", "password", "timezone"],
        ),
        (json!({"password": PASSWORD}), vec!["email"]),
    ];
    for (body, fields) in cases {
        let reply = api.register(body.clone()).await;
        reply.assert_problem(422);
        assert_eq!(reply.error_fields(), fields, "{body}");
        assert!(reply.header("set-cookie").is_none());
    }
    // A member the API does not know is refused, naming it.
    let reply = api
        .register(json!({"email": "a@example.com", "password": PASSWORD, "admin": true}))
        .await;
    reply.assert_problem(422);
    assert!(reply.body["detail"].as_str().unwrap().contains("admin"));
    // Malformed JSON and another media type.
    let reply = api
        .send(
            Method::POST,
            "/api/auth/register",
            None,
            &[("content-type", "application/json")],
        )
        .await;
    reply.assert_problem(400);
    let reply = api
        .send(
            Method::POST,
            "/api/auth/register",
            None,
            &[("content-type", "text/plain")],
        )
        .await;
    reply.assert_problem(415);
    assert_eq!(api.count("SELECT count(*) FROM users").await, 0);
    assert_eq!(api.count("SELECT count(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn login_gives_a_token_that_works_as_bearer_and_as_cookie() {
    let api = start(|app| app).await;
    registered(&api, "ada@example.com").await;
    let reply = api.login("ADA@example.com", PASSWORD).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["email"], json!("ada@example.com"));
    let token = reply.body["token"].as_str().unwrap().to_owned();
    assert_eq!(reply.session_cookie(), format!("session={token}"));
    let set_cookie = reply.header("set-cookie").unwrap();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"));

    let me = api.me_bearer(&token).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    assert_eq!(me.body["user"]["email"], json!("ada@example.com"));
    let me = api
        .send(
            Method::GET,
            "/api/auth/me",
            None,
            &[("cookie", &format!("other=1; session={token}"))],
        )
        .await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);

    // No credentials, a garbage token, and a token signed with another key are all 401.
    api.send(Method::GET, "/api/auth/me", None, &[])
        .await
        .assert_problem(401);
    api.me_bearer("garbage").await.assert_problem(401);
    let (head_payload, _) = token.rsplit_once('.').unwrap();
    api.me_bearer(&format!("{head_payload}.AAAA"))
        .await
        .assert_problem(401);
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_identical_401s() {
    let api = start(|app| app).await;
    registered(&api, "ada@example.com").await;
    let wrong_password = api.login("ada@example.com", "wrong password").await;
    let unknown_email = api.login("bob@example.com", PASSWORD).await;
    wrong_password.assert_problem(401);
    unknown_email.assert_problem(401);
    assert_eq!(wrong_password.body, unknown_email.body);
    assert!(wrong_password.header("set-cookie").is_none());
    assert_eq!(api.count("SELECT count(*) FROM sessions").await, 1);
}

#[tokio::test]
async fn repeated_failures_are_throttled_with_retry_after() {
    let api = start(|app| app).await;
    registered(&api, "ada@example.com").await;
    let started = std::time::Instant::now();
    for attempt in 1..=5 {
        let reply = api.login("ada@example.com", "wrong password").await;
        assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "attempt {attempt}");
    }
    eprintln!(
        "a failed login (one argon2id verify) took {:?} on average",
        started.elapsed() / 5
    );
    // Locked now, even for the right password, and keyed by the normalised email.
    for (email, password) in [
        ("ada@example.com", "wrong password"),
        (" ADA@example.com", PASSWORD),
    ] {
        let reply = api.login(email, password).await;
        reply.assert_problem(429);
        let retry_after: i64 = reply.header("retry-after").unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
    }
    assert_eq!(api.count("SELECT count(*) FROM sessions").await, 1);

    // Unknown emails are throttled the same way, so a 429 says nothing about existence.
    for _ in 1..=5 {
        api.login("bob@example.com", PASSWORD)
            .await
            .assert_problem(401);
    }
    api.login("bob@example.com", PASSWORD)
        .await
        .assert_problem(429);

    // Another email is unaffected, and a success clears its own failures.
    registered(&api, "eve@example.com").await;
    api.login("eve@example.com", "wrong password")
        .await
        .assert_problem(401);
    assert_eq!(
        api.login("eve@example.com", PASSWORD).await.status,
        StatusCode::OK
    );
    assert_eq!(
        api.count("SELECT count(*) FROM login_throttle WHERE email = 'eve@example.com'")
            .await,
        0
    );
}

#[tokio::test]
async fn logout_revokes_the_session_server_side() {
    let api = start(|app| app).await;
    registered(&api, "ada@example.com").await;
    let token = api.login("ada@example.com", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = api.login("ada@example.com", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");

    let reply = api
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("authorization", &bearer)],
        )
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    assert!(reply.header("set-cookie").unwrap().contains("Max-Age=0"));

    // The same token, as a copy kept anywhere, no longer works, by header or cookie.
    api.me_bearer(&token).await.assert_problem(401);
    api.send(
        Method::GET,
        "/api/auth/me",
        None,
        &[("cookie", &format!("session={token}"))],
    )
    .await
    .assert_problem(401);
    api.send(
        Method::POST,
        "/api/auth/logout",
        None,
        &[("authorization", &bearer)],
    )
    .await
    .assert_problem(401);
    // Other sessions of the same user stay open.
    assert_eq!(api.me_bearer(&other).await.status, StatusCode::OK);
}

#[tokio::test]
async fn patch_me_changes_name_and_timezone_and_bad_values_change_nothing() {
    let api = start(|app| app).await;
    registered(&api, "ada@example.com").await;
    let token = api.login("ada@example.com", PASSWORD).await.body["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {token}");
    let patch = |body: Value| {
        let bearer = bearer.clone();
        let api = &api;
        async move {
            api.send(
                Method::PATCH,
                "/api/auth/me",
                Some(body),
                &[("authorization", &bearer)],
            )
            .await
        }
    };

    let reply = patch(json!({"name": "  Ada L. ", "timezone": "America/New_York"})).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["name"], json!("Ada L."));
    assert_eq!(reply.body["user"]["timezone"], json!("America/New_York"));

    let reply = patch(json!({"name": "Someone else", "timezone": "Not/AZone"})).await;
    reply.assert_problem(422);
    assert_eq!(reply.error_fields(), ["timezone"]);
    let reply = patch(json!({"timezone": null})).await;
    reply.assert_problem(422);
    assert_eq!(reply.error_fields(), ["timezone"]);
    let reply = patch(json!({"email": "x@example.com"})).await;
    reply.assert_problem(422);

    let me = api.me_bearer(&token).await;
    assert_eq!(me.body["user"]["name"], json!("Ada L."));
    assert_eq!(me.body["user"]["timezone"], json!("America/New_York"));
    assert_eq!(me.body["user"]["email"], json!("ada@example.com"));

    // `null` clears the name; an absent member leaves it.
    let reply = patch(json!({"name": null})).await;
    assert_eq!(reply.body["user"]["name"], Value::Null);
    assert_eq!(reply.body["user"]["timezone"], json!("America/New_York"));
}

#[tokio::test]
async fn cookie_authenticated_unsafe_requests_need_csrf_proof() {
    let api = start(|app| app).await;
    let cookie = registered(&api, "ada@example.com").await.session_cookie();
    let token = cookie.trim_start_matches("session=").to_owned();
    let body = json!({"name": "Mallory"});

    // No X-Requested-With: refused, nothing changed.
    let reply = api
        .send(
            Method::PATCH,
            "/api/auth/me",
            Some(body.clone()),
            &[("cookie", &cookie)],
        )
        .await;
    reply.assert_problem(403);
    let reply = api
        .send(
            Method::POST,
            "/api/auth/logout",
            None,
            &[("cookie", &cookie)],
        )
        .await;
    reply.assert_problem(403);
    // The header from a foreign origin: refused too.
    let reply = api
        .send(
            Method::PATCH,
            "/api/auth/me",
            Some(body.clone()),
            &[
                ("cookie", &cookie),
                ("x-requested-with", "XMLHttpRequest"),
                ("origin", "https://evil.example"),
            ],
        )
        .await;
    reply.assert_problem(403);
    let me = api.me_bearer(&token).await;
    assert_eq!(me.status, StatusCode::OK, "the session is still open");
    assert_eq!(me.body["user"]["name"], json!("Ada"));

    // With the header from the app's own origin (public_base_url's default), it goes through.
    let reply = api
        .send(
            Method::PATCH,
            "/api/auth/me",
            Some(json!({"name": "Ada B."})),
            &[
                ("cookie", &cookie),
                ("x-requested-with", "XMLHttpRequest"),
                ("origin", "http://127.0.0.1:3000"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["user"]["name"], json!("Ada B."));

    // Bearer requests are exempt: a browser never adds that header on its own.
    let reply = api
        .send(
            Method::PATCH,
            "/api/auth/me",
            Some(json!({"name": "Ada C."})),
            &[
                ("authorization", &format!("Bearer {token}")),
                ("origin", "https://evil.example"),
            ],
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
}

#[tokio::test]
async fn wrong_methods_are_405_problems() {
    let api = start(|app| app).await;
    let reply = api.send(Method::GET, "/api/auth/login", None, &[]).await;
    reply.assert_problem(405);
    assert_eq!(reply.header("allow"), Some("POST"));
    let reply = api.send(Method::DELETE, "/api/auth/me", None, &[]).await;
    reply.assert_problem(405);
    assert_eq!(reply.header("allow"), Some("GET, PATCH"));
}
