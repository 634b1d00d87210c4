//! A Swagger 2.0 spec serves and validates as its OpenAPI 3.0 equivalent
//! does: the same requests to both mocks get the same answers.

mod common;

use common::{send, start};
use std::path::Path;
use understudy::behaviour::Fixture;
use understudy::spec::Api;

/// Method, target, headers, body.
type Request<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a [u8]);

#[tokio::test]
async fn a_swagger_2_spec_answers_as_its_3_0_equivalent() {
    let two = Api::load(Path::new("tests/data/swagger2/petstore.yaml")).expect("2.0 loads");
    assert!(two.warnings.get().is_empty(), "{:?}", two.warnings);
    let three = Api::load(Path::new("tests/data/swagger2/petstore-3.yaml")).expect("3.0 loads");
    assert_eq!(two.base_paths, ["/v1"]);
    let (mock_two, _) = start(two, Fixture::default()).await;
    let (mock_three, _) = start(three, Fixture::default()).await;
    let key = ("x-api-key", "k");
    let json = ("content-type", "application/json");
    let multipart = ("content-type", "multipart/form-data; boundary=b");
    let upload = b"--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.png\"\r\n\r\npng\r\n--b--\r\n";
    let requests: Vec<Request> = vec![
        ("GET", "/v1/pets?limit=10&tags=a&tags=b", vec![key], b""),
        (
            "GET",
            "/v1/pets",
            vec![key, ("accept", "application/xml")],
            b"",
        ),
        ("GET", "/v1/pets?limit=1000", vec![key], b""),
        ("GET", "/v1/pets", vec![], b""),
        ("POST", "/v1/pets", vec![key, json], br#"{"name": "rex"}"#),
        ("POST", "/v1/pets", vec![key, json], br#"{"name": ""}"#),
        ("POST", "/v1/pets", vec![key, json], b"{}"),
        (
            "POST",
            "/v1/pets",
            vec![key, ("content-type", "text/plain")],
            b"rex",
        ),
        ("POST", "/v1/pets/7/photo", vec![key, multipart], upload),
        ("POST", "/v1/pets/0/photo", vec![key, multipart], upload),
        ("POST", "/v1/pets/x/photo", vec![key, multipart], upload),
    ];
    let mut statuses = Vec::new();
    for (method, target, headers, body) in requests {
        let a = send(mock_two.addr, method, target, &headers, body).await;
        let b = send(mock_three.addr, method, target, &headers, body).await;
        let what = format!("{method} {target}");
        assert_eq!(a.status, b.status, "{what}");
        assert_eq!(a.header("content-type"), b.header("content-type"), "{what}");
        assert_eq!(
            String::from_utf8_lossy(&a.body),
            String::from_utf8_lossy(&b.body),
            "{what}"
        );
        statuses.push(a.status);
    }
    // Not only equal: right. Lists, XML on request, the limit and the key
    // checked, bodies validated, a text body refused (as the documented
    // 400: the spec lists no 415), the upload accepted, the path id checked.
    assert_eq!(
        statuses,
        [200, 200, 400, 401, 201, 400, 400, 400, 200, 400, 400]
    );
}

#[test]
fn a_swagger_2_note_names_the_2_0_files_line() {
    let dir = std::env::temp_dir().join(format!("understudy-sw2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let spec = dir.join("api.yaml");
    std::fs::write(
        &spec,
        "swagger: '2.0'\ninfo: {title: t, version: '1'}\npaths:\n  /a:\n    get:\n      parameters:\n        - {name: ids, in: query, type: array, items: {type: integer}, collectionFormat: tsv}\n      responses:\n        '200': {description: ok}\n",
    )
    .expect("write");
    let api = Api::load(&spec).expect("loads");
    assert_eq!(api.warnings.get().len(), 1);
    let warning = &api.warnings.get()[0];
    assert!(
        warning.to_string().contains("collectionFormat: tsv"),
        "{warning}"
    );
    assert_eq!(warning.location().line, Some(7));
    let _ = std::fs::remove_dir_all(&dir);
}
