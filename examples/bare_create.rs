//! A reference point for `bench/run`: mittwald's create-project written by
//! hand for this one API, with the same hyper, tokio, allocator and
//! connection settings as the mock. It does the least a faithful create
//! must: it checks the access token, finds the server in the path, reads
//! and parses the JSON body, checks `description`, generates an id, a short
//! id and timestamps, stores the project in a map under a lock and answers
//! 201 with the id. No spec, no schema, no fixture.
//!
//! The mock's POST is quoted next to this, so a ratio to bare hyper can be
//! read against what any create, however hand-tuned, costs on this machine.
//!
//! Usage: `cargo run --release --example bare_create -- PORT`

mod baseline;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, Response, StatusCode, body::Incoming, header};
use rand::rngs::StdRng;
use rand::{Rng, RngExt, SeedableRng};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SERVER_ID: &str = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
const TOKEN: &str = "mock-token";

/// The fields the mock stores for a created project, as plain strings.
#[allow(dead_code)] // stored, never read back: the point is what storing costs
struct Project {
    short_id: String,
    description: String,
    server_id: &'static str,
    customer_id: &'static str,
    created_at: String,
    status_set_at: String,
    directories_home: String,
    enabled: bool,
    is_ready: bool,
}

/// The stored projects and the generator of their ids, as the mock keeps
/// them per session.
struct State {
    rng: StdRng,
    projects: HashMap<String, Project>,
}

type Projects = Arc<Mutex<State>>;

fn answer(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

/// A version 4 UUID in its hyphenated form, written without `format!`.
fn uuid_v4(rng: &mut impl Rng) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut bytes: [u8; 16] = rng.random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let mut text = String::with_capacity(36);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push('-');
        }
        text.push(HEX[usize::from(byte >> 4)] as char);
        text.push(HEX[usize::from(byte & 0xf)] as char);
    }
    text
}

/// `p-` and six random lower-case letters or digits.
fn short_id(rng: &mut impl Rng) -> String {
    const ALPHABET: &[u8; 36] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    let mut text = String::with_capacity(8);
    text.push_str("p-");
    for _ in 0..6 {
        text.push(ALPHABET[rng.random_range(0..ALPHABET.len())] as char);
    }
    text
}

async fn create(request: Request<Incoming>, projects: Projects) -> Response<Full<Bytes>> {
    let authorised = request
        .headers()
        .get("x-access-token")
        .is_some_and(|token| token.as_bytes() == TOKEN.as_bytes());
    if !authorised {
        return answer(StatusCode::FORBIDDEN, r#"{"message":"forbidden"}"#.into());
    }
    let path = request.uri().path();
    let server = path
        .strip_prefix("/v2/servers/")
        .and_then(|rest| rest.strip_suffix("/projects"));
    if server != Some(SERVER_ID) || request.method() != hyper::Method::POST {
        return answer(StatusCode::NOT_FOUND, r#"{"message":"not found"}"#.into());
    }
    let Ok(body) = request.into_body().collect().await else {
        return answer(StatusCode::BAD_REQUEST, r#"{"message":"bad body"}"#.into());
    };
    let parsed: serde_json::Value = match serde_json::from_slice(&body.to_bytes()) {
        Ok(value) => value,
        Err(_) => return answer(StatusCode::BAD_REQUEST, r#"{"message":"not JSON"}"#.into()),
    };
    let Some(description) = parsed.get("description").and_then(|d| d.as_str()) else {
        return answer(
            StatusCode::BAD_REQUEST,
            r#"{"message":"description is required"}"#.into(),
        );
    };
    let Ok(mut state) = projects.lock() else {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, "{}".into());
    };
    let rng = &mut state.rng;
    let id = uuid_v4(rng);
    let short_id = short_id(rng);
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_millis() as i64);
    let now = chrono::DateTime::from_timestamp_millis(now_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let project = Project {
        directories_home: format!("/home/{short_id}"),
        short_id,
        description: description.to_string(),
        server_id: SERVER_ID,
        customer_id: "customer",
        created_at: now.clone(),
        status_set_at: now,
        enabled: true,
        is_ready: false,
    };
    let body = format!(r#"{{"id":"{id}"}}"#);
    state.projects.insert(id, project);
    drop(state);
    answer(StatusCode::CREATED, body)
}

fn main() -> std::io::Result<()> {
    let port = baseline::port_argument("bare_create");
    let projects: Projects = Arc::new(Mutex::new(State {
        rng: StdRng::seed_from_u64(port.into()),
        projects: HashMap::new(),
    }));
    baseline::serve(port, move |request| create(request, projects.clone()))
}
