//! Where scenarios are sent: a server named by `--target`, or a mock
//! started in-process on an ephemeral port. A target that answers the
//! admin API is an understudy mock: scenarios then get sessions of their
//! own and polls move the virtual clock instead of waiting.

use super::RunError;
use super::http::{HttpClient, Outgoing};
use super::plan::PlannedApi;
use crate::mock::admin::PREFIX;
use crate::mock::{MockOptions, MockService, RunningMock};
use std::sync::Arc;
use std::time::Duration;

/// `--target URL` for every API, or `--target NAME=URL` for one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetArg {
    pub api: Option<String>,
    pub url: String,
}

impl std::str::FromStr for TargetArg {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (api, url) = match text.split_once('=') {
            Some((name, url)) if !name.contains("://") => (Some(name.to_string()), url),
            _ => (None, text),
        };
        let url = url.trim_end_matches('/').to_string();
        let rest = url
            .strip_prefix("http://")
            .or_else(|| url.strip_prefix("https://"));
        if rest.is_none_or(str::is_empty) {
            return Err(format!(
                "`--target {text}`: give a URL such as http://127.0.0.1:8080 or https://api.example.com (or NAME=URL for one API)"
            ));
        }
        if url.parse::<hyper::Uri>().is_err() {
            return Err(format!("`--target {text}`: not a valid URL"));
        }
        Ok(TargetArg { api, url })
    }
}

/// How the runner may talk to a target beyond the spec.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    InProcess,
    /// An understudy mock somebody else started (`understudy serve`).
    Mock,
    /// Anything else: a staging server, the real API.
    Server,
}

impl TargetKind {
    pub fn describe(self) -> &'static str {
        match self {
            TargetKind::InProcess => "in-process mock",
            TargetKind::Mock => "understudy mock",
            TargetKind::Server => "server",
        }
    }
}

pub struct Target {
    pub label: String,
    /// Scheme, host and any path prefix, without a trailing slash.
    pub base: String,
    pub kind: TargetKind,
    /// For mocks: the header that picks a session.
    pub session_header: Option<String>,
    /// Keeps an in-process mock serving while the run lasts.
    _mock: Option<RunningMock>,
}

impl Target {
    pub fn is_mock(&self) -> bool {
        self.kind != TargetKind::Server
    }

    /// A request to the mock's admin API for `session`.
    pub fn admin(&self, method: hyper::Method, what: &str, session: &str, body: &str) -> Outgoing {
        Outgoing {
            method,
            url: format!(
                "{}{PREFIX}/{what}?session={}",
                self.base,
                percent_encoding::utf8_percent_encode(session, percent_encoding::NON_ALPHANUMERIC)
            ),
            path: format!("{PREFIX}/{what}"),
            headers: vec![("content-type".into(), "application/json".into())],
            body: (!body.is_empty()).then(|| bytes::Bytes::from(body.to_string())),
        }
    }
}

/// One target per API of the plan.
pub async fn connect(
    apis: &[PlannedApi],
    targets: &[TargetArg],
    client: &HttpClient,
) -> Result<Vec<Arc<Target>>, RunError> {
    for t in targets {
        if let Some(name) = &t.api
            && !apis.iter().any(|a| &a.label == name)
        {
            let known: Vec<&str> = apis.iter().map(|a| a.label.as_str()).collect();
            return Err(RunError::unusable(format!(
                "`--target {name}=…` names no API of these scenarios (they use: {})",
                known.join(", ")
            )));
        }
    }
    let mut out = Vec::new();
    for planned in apis {
        let chosen = targets
            .iter()
            .find(|t| t.api.as_deref() == Some(planned.label.as_str()))
            .or_else(|| targets.iter().find(|t| t.api.is_none()));
        let target = match chosen {
            None => start_mock(planned).await?,
            Some(arg) => probe(&planned.label, &arg.url, client).await?,
        };
        out.push(Arc::new(target));
    }
    Ok(out)
}

async fn start_mock(planned: &PlannedApi) -> Result<Target, RunError> {
    let options = MockOptions {
        label: planned.label.clone(),
        quiet: true,
        ..MockOptions::default()
    };
    let service = MockService::new(planned.api.clone(), planned.fixture.clone(), options);
    let running = RunningMock::start(service).await.map_err(|e| {
        RunError::unusable(format!(
            "cannot start the {} mock on 127.0.0.1: {e}",
            planned.label
        ))
    })?;
    Ok(Target {
        label: planned.label.clone(),
        base: running.url(),
        kind: TargetKind::InProcess,
        session_header: Some(planned.fixture.model.session_header.clone()),
        _mock: Some(running),
    })
}

/// Reaches the target once, and asks whether it is an understudy mock.
async fn probe(label: &str, url: &str, client: &HttpClient) -> Result<Target, RunError> {
    let ask = Outgoing {
        method: hyper::Method::GET,
        url: format!("{url}{PREFIX}/"),
        path: format!("{PREFIX}/"),
        headers: Vec::new(),
        body: None,
    };
    let answer = client
        .send(&ask, Duration::from_secs(10))
        .await
        .map_err(|e| RunError::Unreachable {
            url: url.to_string(),
            reason: e.to_string(),
        })?;
    let session_header = (answer.status == 200)
        .then(|| {
            answer
                .json
                .as_ref()?
                .get("session_header")?
                .as_str()
                .map(str::to_string)
        })
        .flatten();
    Ok(Target {
        label: label.to_string(),
        base: url.to_string(),
        kind: if session_header.is_some() {
            TargetKind::Mock
        } else {
            TargetKind::Server
        },
        session_header,
        _mock: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_are_urls_optionally_named() {
        let all: TargetArg = "http://127.0.0.1:8080/".parse().expect("a URL");
        assert_eq!(all.api, None);
        assert_eq!(all.url, "http://127.0.0.1:8080");
        let one: TargetArg = "waldur=https://waldur.example.com/base"
            .parse()
            .expect("a named URL");
        assert_eq!(one.api.as_deref(), Some("waldur"));
        assert_eq!(one.url, "https://waldur.example.com/base");
        for bad in ["ftp://x", "127.0.0.1:8080", "http://", "x=https://"] {
            assert!(bad.parse::<TargetArg>().is_err(), "{bad}");
        }
    }
}
