//! Any spec, faithfully: the spec-only mock over HTTP on shapes real specs
//! use (multi-file operations, forms, headers OpenAPI says to ignore,
//! redirects, protocol switches, lenient YAML), and a short negative
//! scenario against each real spec in `../shared/real-specs`.

mod common;

use common::{send, start};

const JSON: (&str, &str) = ("content-type", "application/json");
use serde_json::json;
use std::path::{Path, PathBuf};
use understudy::behaviour::Fixture;
use understudy::spec::Api;

fn small(text: &str) -> Api {
    Api::from_text(Path::new("small.yaml"), text).expect("the spec loads")
}

#[tokio::test]
async fn operations_kept_in_other_files_are_served_and_validated() {
    let api = Api::load(Path::new("tests/data/multifile/api.yaml")).expect("loads");
    let (mock, _) = start(api, Fixture::default()).await;
    let listed = send(mock.addr, "GET", "/droplets?per_page=20", &[], b"").await;
    assert_eq!(listed.status, 200);
    assert!(listed.json()["droplets"].is_array(), "{}", listed.json());
    let bad = send(mock.addr, "GET", "/droplets?per_page=abc", &[], b"").await;
    assert_eq!(bad.status, 400, "{}", bad.json());
    // The refusal is the 400 documented in the other file, in its shape.
    assert_eq!(bad.header("content-type"), Some("application/json"));
    assert!(
        bad.json()["message"]
            .as_str()
            .is_some_and(|m| m.contains("per_page"))
    );
    assert!(bad.json()["id"].is_string());
    let created = send(
        mock.addr,
        "POST",
        "/droplets",
        &[JSON],
        br#"{"name": "web", "size": "s-1vcpu-1gb"}"#,
    )
    .await;
    assert_eq!(created.status, 202, "{}", created.json());
    let refused = send(mock.addr, "POST", "/droplets", &[JSON], b"{}").await;
    // Only 422 is documented for this operation: a validation refusal uses it.
    assert_eq!(refused.status, 422, "{}", refused.json());
    let message = refused.json()["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(
        message.contains("name") && message.contains("size"),
        "{message}"
    );
}

#[test]
fn an_operation_ref_that_does_not_resolve_names_its_file_and_line() {
    let dir = std::env::temp_dir().join(format!("understudy-opref-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = dir.join("api.yaml");
    std::fs::write(
        &spec,
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get: {$ref: 'ops.yaml#/nope'}\n",
    )
    .expect("write");
    std::fs::write(dir.join("ops.yaml"), "other: {}\n").expect("write");
    let error = Api::load(&spec).expect_err("refused").to_string();
    let location = format!("{:?}", Api::load(&spec).expect_err("refused").location());
    assert!(error.contains("ops.yaml#/nope"), "{error}");
    assert!(location.contains("line: Some(5)"), "{location}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn headers_openapi_says_to_ignore_are_ignored_and_integers_have_any_size() {
    let api = small(
        r#"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /files/{id}:
    get:
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
        - {name: Accept, in: header, required: true, schema: {type: string, enum: [application/json]}}
        - {name: skip, in: query, schema: {type: integer, minimum: 0}}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
"#,
    );
    let (mock, _) = start(api, Fixture::default()).await;
    let curl_default = send(mock.addr, "GET", "/files/1", &[("accept", "*/*")], b"").await;
    assert_eq!(curl_default.status, 200, "{}", curl_default.json());
    let huge = send(
        mock.addr,
        "GET",
        "/files/1?skip=9223372036854775808",
        &[],
        b"",
    )
    .await;
    assert_eq!(huge.status, 200, "{}", huge.json());
    let huger = send(
        mock.addr,
        "GET",
        "/files/1?skip=123456789012345678901234567890",
        &[],
        b"",
    )
    .await;
    assert_eq!(huger.status, 200, "{}", huger.json());
    let negative = send(
        mock.addr,
        "GET",
        "/files/1?skip=-99999999999999999999",
        &[],
        b"",
    )
    .await;
    assert_eq!(
        negative.status, 400,
        "a huge integer is still checked against its bounds"
    );
}

#[tokio::test]
async fn duplicate_required_entries_nested_forms_redirects_and_upgrades() {
    let api = small(
        r##"
openapi: 3.1.0
info: {title: t, version: "1"}
paths:
  /things:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Thing"}
      responses:
        "201": {description: made, content: {application/json: {schema: {$ref: "#/components/schemas/Thing"}}}}
  /customers:
    post:
      requestBody:
        content:
          application/x-www-form-urlencoded:
            schema:
              type: object
              required: [address]
              properties:
                address: {type: object, required: [country], properties: {country: {type: string}, line: {type: integer}}}
                expand: {type: array, items: {type: string}}
            encoding:
              address: {style: deepObject, explode: true}
      responses:
        "200": {description: ok, content: {application/json: {schema: {type: object}}}}
  /old:
    get:
      deprecated: true
      responses:
        "308":
          description: moved
          headers:
            Location: {schema: {type: string, format: uri}}
  /socket:
    get:
      responses:
        "101": {description: switching protocols}
components:
  schemas:
    Thing:
      type: object
      required: [id, name, id]
      properties: {id: {type: string}, name: {type: string}}
"##,
    );
    let (mock, _) = start(api, Fixture::default()).await;
    let made = send(
        mock.addr,
        "POST",
        "/things",
        &[JSON],
        br#"{"id": "a", "name": "b"}"#,
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.json());
    let made = made.json();
    assert!(made["id"].is_string() && made["name"].is_string(), "{made}");
    let missing = send(mock.addr, "POST", "/things", &[JSON], br#"{"id": "a"}"#).await;
    assert_eq!(missing.status, 400);

    let form = ("content-type", "application/x-www-form-urlencoded");
    let nested = send(
        mock.addr,
        "POST",
        "/customers",
        &[form],
        b"address[country]=US&address[line]=2&expand[]=a&expand[]=b",
    )
    .await;
    assert_eq!(nested.status, 200, "{}", nested.json());
    let wrong = send(mock.addr, "POST", "/customers", &[form], b"address[line]=x").await;
    assert_eq!(wrong.status, 400);
    let text = String::from_utf8_lossy(&wrong.body).to_string();
    assert!(
        text.contains("country") && text.contains("integer"),
        "{text}"
    );

    let moved = send(mock.addr, "GET", "/old", &[], b"").await;
    assert_eq!(moved.status, 308);
    assert!(
        moved
            .header("location")
            .is_some_and(|l| l.starts_with("http")),
        "a redirect carries its documented Location"
    );

    let plain = send(mock.addr, "GET", "/socket", &[], b"").await;
    assert_eq!(plain.status, 400, "no 101 without an upgrade request");
    assert!(String::from_utf8_lossy(&plain.body).contains("Upgrade"));
}

#[tokio::test]
async fn a_multi_line_flow_mapping_holding_an_empty_one_is_read() {
    let api = small(
        r#"openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /ports:
    get:
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: object}
              example: {
                "80/tcp": {}
              }
"#,
    );
    let (mock, _) = start(api, Fixture::default()).await;
    let answer = send(mock.addr, "GET", "/ports", &[], b"").await;
    assert_eq!(answer.json(), json!({"80/tcp": {}}));
}

/// Each real spec, served with no fixture, refuses an invalid body and a
/// bad parameter, and `understudy run` finds both refusals within the
/// contract (`tests/data/negative/*.yaml`).
#[test]
fn a_negative_scenario_passes_against_each_real_specs_mock() {
    let Some(folder) = common::real_spec("") else {
        return;
    };
    let unpacked = std::env::temp_dir().join(format!("understudy-do-{}", std::process::id()));
    std::fs::create_dir_all(&unpacked).expect("temp dir");
    let untarred = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(folder.join("digitalocean-v2-multifile.tar.gz"))
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar runs");
    assert!(untarred.success());
    let cases: Vec<(PathBuf, &str)> = vec![
        (folder.join("hetzner-cloud.json"), "hetzner-cloud"),
        (folder.join("mittwald-v2.json"), "mittwald-v2"),
        (
            folder.join("stripe-spec3-2020-03-02.json"),
            "stripe-spec3-2020-03-02",
        ),
        (folder.join("discord-openapi.json"), "discord-openapi"),
        (folder.join("openai-openapi.yaml"), "openai-openapi"),
        (folder.join("waldur-8.0.5.yaml"), "waldur-8.0.5"),
        (
            folder.join("waldur-2024-10-server-generated.yaml"),
            "waldur-2024-10-server-generated",
        ),
        (
            unpacked.join("digitalocean-openapi/specification/DigitalOcean-public.v2.yaml"),
            "digitalocean",
        ),
    ];
    for (spec, scenario) in cases {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
            .arg("run")
            .arg("--spec")
            .arg(&spec)
            .arg(format!("tests/data/negative/{scenario}.yaml"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("understudy runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "{scenario}: {stdout}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            stdout.contains("2 scenarios: 2 passed"),
            "{scenario}: {stdout}"
        );
    }
    let _ = std::fs::remove_dir_all(&unpacked);
}

/// `additionalProperties: false` in one part of an `allOf` is read as its
/// author meant it (no properties beyond all the parts'), with a warning.
#[tokio::test]
async fn an_all_of_closed_in_one_part_is_read_leniently_with_a_warning() {
    let api = small(
        r##"
openapi: 3.0.3
info: {title: t, version: "1"}
paths:
  /servers:
    post:
      requestBody:
        required: true
        content:
          application/json:
            schema:
              allOf:
                - {$ref: "#/components/schemas/Base"}
                - {type: object, properties: {size: {type: integer}}}
      responses:
        "201": {description: made}
components:
  schemas:
    Base:
      type: object
      additionalProperties: false
      required: [name]
      properties: {name: {type: string}}
"##,
    );
    let warnings: Vec<String> = api.warnings.get().iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(
        warnings[0].contains("unevaluatedProperties")
            && warnings[0].contains("requestBody/content/application~1json/schema/allOf/0"),
        "{warnings:?}"
    );
    let (mock, _) = start(api, Fixture::default()).await;
    let standard = send(
        mock.addr,
        "POST",
        "/servers",
        &[JSON],
        br#"{"name": "a", "size": 2}"#,
    )
    .await;
    assert_eq!(
        standard.status,
        201,
        "{}",
        String::from_utf8_lossy(&standard.body)
    );
    let extra = send(
        mock.addr,
        "POST",
        "/servers",
        &[JSON],
        br#"{"name": "a", "size": 2, "colour": "red"}"#,
    )
    .await;
    assert_eq!(
        extra.status, 400,
        "still closed to properties no part defines"
    );
    let missing = send(mock.addr, "POST", "/servers", &[JSON], br#"{"size": 2}"#).await;
    assert_eq!(
        missing.status, 400,
        "the closed part's own rules still hold"
    );
}

/// The README's example: Stripe's mock refuses in Stripe's error shape.
#[tokio::test]
async fn stripes_mock_refuses_in_stripes_error_shape() {
    let Some(spec) = common::real_spec("stripe-spec3-2020-03-02.json") else {
        return;
    };
    let api = Api::load(&spec).expect("loads");
    let (mock, api) = start(api, Fixture::default()).await;
    let answer = send(
        mock.addr,
        "POST",
        "/v1/customers",
        &[
            ("authorization", "Bearer sk_test"),
            ("content-type", "application/x-www-form-urlencoded"),
        ],
        b"balance=abc",
    )
    .await;
    assert_eq!(answer.status, 400);
    assert_eq!(
        answer.json(),
        json!({"error": {"message": "\"abc\" is not of type \"integer\"", "type": "invalid_request_error"}})
    );
    let documented = api
        .operation("PostCustomers")
        .and_then(|o| o.response_for(400))
        .and_then(|r| r.media.first())
        .and_then(|m| m.schema.as_ref())
        .expect("Stripe documents its error");
    assert!(
        api.compiled(documented)
            .expect("compiles")
            .is_valid(&answer.json())
    );
}

/// The README's finding: Discord's spec has an `enum` no value can meet
/// (empty, beside an `allOf`), named at load with its place.
#[test]
fn an_unsatisfiable_enum_in_discords_spec_is_a_load_warning() {
    let Some(spec) = common::real_spec("discord-openapi.json") else {
        return;
    };
    let api = Api::load(&spec).expect("loads");
    let warnings: Vec<String> = api.warnings.get().iter().map(|w| w.to_string()).collect();
    assert!(
        warnings.iter().any(|w| w.contains("no value can satisfy")
            && w.contains("/paths/~1guilds~1{guild_id}~1requests/get/parameters/0/schema/enum")),
        "{warnings:?}"
    );
}
