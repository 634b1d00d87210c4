//! The README's complete fixture example loads, binds to a spec with its
//! operations, and behaves as the README says.

mod common;

use common::{send, start};
use std::path::Path;
use understudy::behaviour::Fixture;
use understudy::spec::Api;

const SHOP: &str = r#"
openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /servers/{serverId}/projects:
    post:
      operationId: createProject
      parameters: [{name: serverId, in: path, required: true, schema: {type: string}}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string, pattern: '^[a-z0-9-]+$'}}}
      responses:
        '201': {description: created, content: {application/json: {schema: {type: object, required: [id], properties: {id: {type: string}}}}}}
        '400': {description: refused}
        '409': {description: taken}
  /projects:
    get:
      operationId: listProjects
      parameters:
        - {name: server, in: query, schema: {type: string}}
        - {name: name, in: query, schema: {type: string}}
        - {name: created_after, in: query, schema: {type: string, format: date-time}}
        - {name: include_removed, in: query, schema: {type: boolean}}
        - {name: o, in: query, style: form, explode: false, schema: {type: array, items: {type: string}}}
        - {name: page, in: query, schema: {type: integer}}
        - {name: page_size, in: query, schema: {type: integer}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Project'}}}}}
  /projects/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: string}}]
    get:
      operationId: getProject
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Project'}}}}
    put:
      operationId: replaceProject
      requestBody: {content: {application/json: {schema: {type: object, required: [name], properties: {name: {type: string}, serverId: {type: string}}}}}}
      responses:
        '200': {description: replaced, content: {application/json: {schema: {$ref: '#/components/schemas/Project'}}}}
        '201': {description: created, content: {application/json: {schema: {$ref: '#/components/schemas/Project'}}}}
    patch:
      operationId: updateProject
      requestBody: {content: {application/json: {schema: {type: object}}}}
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Project'}}}}
    delete:
      operationId: deleteProject
      responses:
        '204': {description: gone}
  /projects/{id}/restore:
    post:
      operationId: restoreProject
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Project'}}}}
components:
  schemas:
    Project:
      type: object
      required: [id, name, serverId, isReady, url, serverName]
      properties:
        id: {type: string}
        name: {type: string}
        serverId: {type: string}
        isReady: {type: boolean}
        url: {type: string}
        serverName: {type: string}
"#;

fn readme_fixture() -> String {
    readme_block("### A complete example")
}

#[tokio::test]
async fn the_readme_fixture_loads_and_behaves() {
    let api = Api::from_text(Path::new("shop.yaml"), SHOP).expect("spec");
    let mut fixture = Fixture::from_text(Path::new("README.md"), &readme_fixture())
        .expect("the README fixture loads");
    fixture
        .bind(&api)
        .expect("the README fixture fits its operations");
    let (mock, _) = start(api, fixture).await;
    let json = ("content-type", "application/json");

    let created = send(
        mock.addr,
        "POST",
        "/servers/srv-1/projects",
        &[json],
        br#"{"name":"web"}"#,
    )
    .await;
    assert_eq!(
        created.status,
        201,
        "{}",
        String::from_utf8_lossy(&created.body)
    );
    let id = created.json()["id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let taken = send(
        mock.addr,
        "POST",
        "/servers/srv-1/projects",
        &[json],
        br#"{"name":"web"}"#,
    )
    .await;
    assert_eq!(taken.status, 409);
    assert_eq!(taken.json()["message"], "'web' is taken");
    let missing_server = send(
        mock.addr,
        "POST",
        "/servers/srv-9/projects",
        &[json],
        br#"{"name":"x"}"#,
    )
    .await;
    assert_eq!(missing_server.status, 404);

    let project = send(mock.addr, "GET", &format!("/projects/{id}"), &[], b"").await;
    assert_eq!(project.status, 200);
    let body = project.json();
    assert_eq!(body["isReady"], false);
    assert_eq!(body["serverName"], "First server");

    for name in ["api", "db"] {
        let body = format!("{{\"name\":\"{name}\"}}");
        send(
            mock.addr,
            "POST",
            "/servers/srv-1/projects",
            &[json],
            body.as_bytes(),
        )
        .await;
    }
    let limited = send(
        mock.addr,
        "POST",
        "/servers/srv-1/projects",
        &[json],
        br#"{"name":"four"}"#,
    )
    .await;
    assert_eq!(limited.status, 400);
    assert_eq!(limited.json()["message"], "Plan limit reached");

    let page = send(mock.addr, "GET", "/projects?o=name&page_size=2", &[], b"").await;
    assert_eq!(page.header("x-result-count"), Some("3"));
    let names: Vec<String> = page
        .json()
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|p| p["name"].as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(names, ["api", "db"]);

    // PUT replaces an item (what the server made stays) or creates one
    // under the path's key.
    let before = project.json();
    let replaced = send(
        mock.addr,
        "PUT",
        &format!("/projects/{id}"),
        &[json],
        br#"{"name":"web","serverId":"srv-1"}"#,
    )
    .await;
    assert_eq!(
        replaced.status,
        200,
        "{}",
        String::from_utf8_lossy(&replaced.body)
    );
    assert_eq!(replaced.json()["createdAt"], before["createdAt"]);
    assert_eq!(replaced.json()["id"], before["id"]);
    let made = send(
        mock.addr,
        "PUT",
        "/projects/p-new",
        &[json],
        br#"{"name":"fresh"}"#,
    )
    .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    assert_eq!(made.json()["id"], "p-new");
    assert_eq!(made.json()["serverId"], "srv-1");
    assert_eq!(
        send(mock.addr, "GET", "/projects/p-new", &[], b"")
            .await
            .json()["name"],
        "fresh"
    );

    assert_eq!(
        send(mock.addr, "DELETE", &format!("/projects/{id}"), &[], b"")
            .await
            .status,
        204
    );
    assert_eq!(
        send(mock.addr, "GET", &format!("/projects/{id}"), &[], b"")
            .await
            .status,
        404
    );
    let removed = send(
        mock.addr,
        "GET",
        "/projects?include_removed=true&name=web",
        &[],
        b"",
    )
    .await;
    assert_eq!(removed.json()[0]["removed"], true);
    let restored = send(
        mock.addr,
        "POST",
        &format!("/projects/{id}/restore"),
        &[],
        b"",
    )
    .await;
    assert_eq!(restored.status, 200);
    assert_eq!(restored.json()["removed"], false);
}

const TEAM: &str = r#"
openapi: 3.0.3
info: {title: Team, version: "1"}
security: [{tokenAuth: []}]
paths:
  /teams/:
    post:
      operationId: createTeam
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: object, required: [name], properties: {name: {type: string, minLength: 1}}}
      responses:
        '201': {description: made, content: {application/json: {schema: {$ref: '#/components/schemas/Team'}}}}
  /teams/{id}/:
    get:
      operationId: getTeam
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses:
        '200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Team'}}}}
components:
  securitySchemes:
    tokenAuth: {type: apiKey, in: header, name: Authorization}
  schemas:
    Team:
      type: object
      properties:
        id: {type: string}
        name: {type: string}
        description: {type: string}
        archived: {type: boolean}
        created: {type: string, format: date-time}
"#;

fn readme_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let section = readme
        .split(heading)
        .nth(1)
        .unwrap_or_else(|| panic!("the README has `{heading}`"));
    let block = section.split("```yaml\n").nth(1).expect("a yaml block");
    block
        .split("\n```")
        .next()
        .expect("a closed block")
        .to_string()
}

#[tokio::test]
async fn the_readme_credentials_example_behaves_as_it_says() {
    let api = Api::from_text(Path::new("team.yaml"), TEAM).expect("spec");
    let mut fixture = Fixture::from_text(
        Path::new("README.md"),
        &readme_block("### Credentials, visibility and the framework around the API"),
    )
    .expect("the README fixture loads");
    fixture
        .bind(&api)
        .expect("the README fixture fits its operations");
    let (mock, _) = start(api, fixture).await;
    let json = ("content-type", "application/json");
    let ann = ("authorization", "Token ann-token");
    let root = ("authorization", "Token root-token");

    let unknown = send(
        mock.addr,
        "GET",
        "/teams/x/",
        &[("authorization", "Token no")],
        b"",
    )
    .await;
    assert_eq!(unknown.status, 401);
    assert_eq!(unknown.header("www-authenticate"), Some("Token"));
    assert_eq!(unknown.json()["detail"], "Invalid token.");

    let blank = send(
        mock.addr,
        "POST",
        "/teams/",
        &[ann, json],
        br#"{"name": "  "}"#,
    )
    .await;
    assert_eq!(blank.status, 400);
    assert_eq!(blank.header("allow"), Some("POST, OPTIONS"));

    let made = send(
        mock.addr,
        "POST",
        "/teams/",
        &[ann, json],
        br#"{"name": "core"}"#,
    )
    .await;
    assert_eq!(made.status, 201);
    let team = made.json();
    let id = team["id"].as_str().expect("an id").to_string();
    assert_eq!(id.len(), 32, "uuid_hex: {id}");
    assert_eq!(team["description"], "", "a default");
    assert_eq!(team["archived"], false);
    assert!(team.get("owner").is_none(), "omitted: {team}");
    assert!(
        made.header("location")
            .is_some_and(|l| l.ends_with(&format!("/teams/{id}/"))),
        "{:?}",
        made.header("location")
    );

    // Ann sees her team and staff see it; a team of another she does not.
    let read = |auth: (&'static str, &'static str), path: String| async move {
        send(mock.addr, "GET", &path, &[auth], b"").await.status
    };
    assert_eq!(read(ann, format!("/teams/{id}/")).await, 200);
    assert_eq!(read(root, format!("/teams/{id}/")).await, 200);
    let theirs = send(
        mock.addr,
        "POST",
        "/teams/",
        &[root, json],
        br#"{"name": "ops"}"#,
    )
    .await;
    let theirs = theirs.json()["id"].as_str().expect("an id").to_string();
    assert_eq!(read(ann, format!("/teams/{theirs}/")).await, 404);
    let redirect = send(mock.addr, "GET", &format!("/teams/{id}"), &[ann], b"").await;
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some(&*format!("/teams/{id}/")));
}

/// The README's first commands: each `curl` of the quick-start block, sent
/// to the bundled mock its port names, gets the answer its `# →` line says.
#[tokio::test]
async fn the_quick_start_curls_get_the_answers_the_readme_shows() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let block = readme
        .split("`serve` prints where each API is reachable:")
        .nth(1)
        .and_then(|rest| rest.split("```sh\n").nth(1))
        .and_then(|rest| rest.split("\n```").next())
        .expect("the quick-start block");
    let joined = block.replace("\\\n", " ");
    let lines: Vec<&str> = joined.lines().collect();
    let mut checked = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(command) = line.strip_prefix("curl ") else {
            continue;
        };
        let expected = lines
            .get(i + 1)
            .and_then(|l| l.strip_prefix("# → "))
            .expect("each curl is followed by its answer");
        let (status, body_start) = expected.split_once(' ').expect("status and body");
        let words = shell_words(command);
        let mut method = "GET".to_string();
        let mut headers = Vec::new();
        let mut body = String::new();
        let mut url = String::new();
        let mut it = words.iter();
        while let Some(word) = it.next() {
            match word.as_str() {
                "-X" => method = it.next().expect("a method").clone(),
                "-H" => {
                    let (k, v) = it.next().expect("a header").split_once(": ").expect("k: v");
                    headers.push((k.to_ascii_lowercase(), v.to_string()));
                }
                "-d" => body = it.next().expect("a body").clone(),
                other => url = other.to_string(),
            }
        }
        let rest = url.strip_prefix("http://127.0.0.1:").expect("a local URL");
        let (port, path) = rest.split_at(4);
        let api = match port {
            "4010" => "mittwald",
            "4011" => "waldur",
            "4012" => "datallog",
            other => panic!("no bundled API on port {other}"),
        };
        let (mock, _) = common::start_bundled(api).await;
        let header_refs: Vec<(&str, &str)> = headers
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let answer = send(mock.addr, &method, path, &header_refs, body.as_bytes()).await;
        assert_eq!(answer.status.to_string(), status, "{line}");
        // `…` marks where the README stops quoting the body.
        let prefix = body_start.split('…').next().unwrap_or_default();
        let text = String::from_utf8_lossy(&answer.body);
        assert!(text.starts_with(prefix), "{line}: {text}");
        checked += 1;
    }
    assert_eq!(checked, 2);
}

/// Splits a command line on spaces, keeping single-quoted words whole.
fn shell_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in line.chars() {
        match c {
            '\'' => quoted = !quoted,
            ' ' if !quoted => {
                if !current.is_empty() {
                    words.push(std::mem::take(&mut current));
                }
            }
            other => current.push(other),
        }
    }
    if !current.is_empty() {
        words.push(current);
    }
    words
}
