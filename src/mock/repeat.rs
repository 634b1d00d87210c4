//! Answers to requests repeated exactly while the state has not changed: a
//! client polling an unchanged item (a frontend waiting for a project to
//! become ready, a load test) is answered by one lookup, without routing,
//! checking credentials and parameters or running the fixture's rules.
//!
//! Only answers that follow from the request and the state alone are kept:
//! the behaviour stage says so ([`Reply::repeatable`]) for a read answered
//! with the answer kept with its item (see `answer_cache`) whose item is
//! ready and whose credentials cannot expire with time. The request is the
//! key, whole: method, target, version and every header as sent, so
//! anything a rule, a security check or content negotiation could read is
//! in it. The state is the store's change count when the request started:
//! every change of state (an item written, a session made or dropped, the
//! clock or variables set through the admin API) moves it, and an answer
//! kept under another count is never sent. A reload starts a new cache
//! with the new spec and fixture ([`super::loaded::Loaded`]).
//!
//! What the mock does around an answer is still done for a repeated one:
//! the journal and the log get their entry, the session counts as used.
//!
//! Memory is bounded by `--repeat-cache` (bytes of keys and bodies, shared
//! bodies counted as if they were not); past it the cache starts empty.

use super::reply::Reply;
use bytes::Bytes;
use hyper::HeaderMap;
use hyper::http::request::Parts;
use std::sync::{Arc, RwLock};

/// Longest request head kept as a key: a client sending headers this large
/// gets every answer built.
const MAX_KEY_BYTES: usize = 4096;

/// What a request repeated exactly is answered with.
#[derive(Debug)]
pub struct Repeat {
    /// The store's change count the answer was made at.
    stamp: u64,
    /// The answer as the log and journal see it.
    pub reply: Reply,
    /// Its headers as hyper sends them, converted once.
    pub headers: HeaderMap,
    /// The session the request was for, which counts as used again.
    pub session: String,
}

impl Repeat {
    pub fn body(&self) -> Bytes {
        self.reply.body.clone()
    }
}

/// A request as the key of its answer: method, target, version and
/// headers, each with its length in front so no two requests share a key.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestKey(Box<[u8]>);

impl RequestKey {
    /// The key of a request with no body; `None` when its head is longer
    /// than [`MAX_KEY_BYTES`].
    pub fn of(parts: &Parts) -> Option<Self> {
        let mut bytes = Vec::with_capacity(256);
        let mut put = |part: &[u8]| {
            bytes.extend_from_slice(&(part.len() as u32).to_le_bytes());
            bytes.extend_from_slice(part);
        };
        put(parts.method.as_str().as_bytes());
        put(parts
            .uri
            .path_and_query()
            .map_or(parts.uri.path(), |p| p.as_str())
            .as_bytes());
        put(match parts.version {
            hyper::Version::HTTP_09 => b"0.9",
            hyper::Version::HTTP_10 => b"1.0",
            hyper::Version::HTTP_11 => b"1.1",
            hyper::Version::HTTP_2 => b"2",
            _ => b"3",
        });
        for (name, value) in &parts.headers {
            put(name.as_str().as_bytes());
            put(value.as_bytes());
        }
        (bytes.len() <= MAX_KEY_BYTES).then(|| Self(bytes.into_boxed_slice()))
    }

    fn cost(&self) -> usize {
        self.0.len()
    }
}

/// The kept answers of one loaded spec and fixture.
#[derive(Debug)]
pub struct RepeatedAnswers {
    budget: usize,
    kept: RwLock<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    bytes: usize,
    answers: foldhash::HashMap<RequestKey, Arc<Repeat>>,
}

impl RepeatedAnswers {
    /// A cache of at most `budget` bytes; `None` for 0 (turned off).
    pub fn new(budget: usize) -> Option<Self> {
        (budget > 0).then(|| Self {
            budget,
            kept: RwLock::default(),
        })
    }

    /// The answer kept for `key`, if it was made at change count `stamp`.
    pub fn find(&self, key: &RequestKey, stamp: u64) -> Option<Arc<Repeat>> {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        kept.answers
            .get(key)
            .filter(|repeat| repeat.stamp == stamp)
            .cloned()
    }

    /// Keeps `reply`, the answer to the request `key` made at change count
    /// `stamp` for `session`.
    pub fn keep(&self, key: RequestKey, stamp: u64, reply: &Reply, session: &str) {
        let cost = key.cost() + reply.body.len() + session.len();
        if cost > self.budget {
            return;
        }
        let repeat = Arc::new(Repeat {
            stamp,
            headers: header_map(reply),
            reply: reply.clone(),
            session: session.to_string(),
        });
        let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
        if kept.bytes + cost > self.budget {
            *kept = Kept::default();
        }
        if let Some(before) = kept.answers.insert(key, repeat) {
            kept.bytes -= before.reply.body.len() + before.session.len();
        } else {
            kept.bytes += cost;
            return;
        }
        // The key was there already: only the body and session are new.
        kept.bytes += reply.body.len() + session.len();
    }

    /// How many answers are kept.
    pub fn kept(&self) -> usize {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        kept.answers.len()
    }
}

/// `reply`'s headers as hyper sends them; one that is not a valid header
/// is left out, as for every answer.
pub fn header_map(reply: &Reply) -> HeaderMap {
    let mut headers = HeaderMap::with_capacity(reply.headers.len());
    for (name, value) in &reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::try_from(name.as_str()),
            hyper::header::HeaderValue::try_from(value.as_str()),
        ) {
            headers.append(name, value);
        }
    }
    headers
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut request = hyper::Request::get(uri);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        request.body(()).unwrap().into_parts().0
    }

    fn reply(body: &'static str) -> Reply {
        Reply::bytes(200, "application/json", Bytes::from_static(body.as_bytes()))
    }

    #[test]
    fn a_key_is_the_whole_request_head() {
        let plain = RequestKey::of(&parts("/a?x=1", &[("x-token", "t")])).unwrap();
        assert_eq!(
            plain,
            RequestKey::of(&parts("/a?x=1", &[("x-token", "t")])).unwrap()
        );
        for other in [
            parts("/a?x=2", &[("x-token", "t")]),
            parts("/a", &[("x-token", "t")]),
            parts("/a?x=1", &[("x-token", "u")]),
            parts("/a?x=1", &[("x-token", "t"), ("accept", "text/html")]),
            // A name and value split elsewhere is another request.
            parts("/a?x=1", &[("x-toke", "nt")]),
        ] {
            assert_ne!(plain, RequestKey::of(&other).unwrap());
        }
        let mut head = parts("/a", &[]);
        head.method = hyper::Method::HEAD;
        assert_ne!(
            RequestKey::of(&head).unwrap(),
            RequestKey::of(&parts("/a", &[])).unwrap()
        );
    }

    #[test]
    fn a_head_too_long_is_not_a_key() {
        let long = "v".repeat(MAX_KEY_BYTES);
        assert!(RequestKey::of(&parts("/a", &[("x-long", &long)])).is_none());
    }

    #[test]
    fn an_answer_is_found_only_at_the_change_count_it_was_made_at() {
        let cache = RepeatedAnswers::new(1 << 20).unwrap();
        let key = RequestKey::of(&parts("/a", &[])).unwrap();
        assert!(cache.find(&key, 3).is_none());
        cache.keep(key.clone(), 3, &reply("{}"), "default");
        let found = cache.find(&key, 3).expect("kept");
        assert_eq!(found.body(), Bytes::from_static(b"{}"));
        assert_eq!(found.session, "default");
        assert_eq!(
            found.headers.get("content-type").unwrap(),
            "application/json"
        );
        assert!(cache.find(&key, 4).is_none());
    }

    #[test]
    fn past_its_budget_the_cache_starts_empty() {
        let cache = RepeatedAnswers::new(300).unwrap();
        let body = "x".repeat(100);
        let body: &'static str = Box::leak(body.into_boxed_str());
        for n in 0..3 {
            let key = RequestKey::of(&parts(&format!("/a/{n}"), &[])).unwrap();
            cache.keep(key, 1, &reply(body), "s");
        }
        // Each costs a little over 100 bytes: the third found the cache
        // full, which started again with it alone.
        assert_eq!(cache.kept(), 1);
        let key = RequestKey::of(&parts("/a/2", &[])).unwrap();
        assert!(cache.find(&key, 1).is_some());
        // Kept again under the same key, it costs no more.
        for _ in 0..10 {
            cache.keep(key.clone(), 2, &reply(body), "s");
        }
        assert_eq!(cache.kept(), 1);
        assert!(cache.find(&key, 2).is_some());
        // One larger than the whole budget is not kept.
        let huge: &'static str = Box::leak("x".repeat(400).into_boxed_str());
        let other = RequestKey::of(&parts("/b", &[])).unwrap();
        cache.keep(other.clone(), 2, &reply(huge), "s");
        assert!(cache.find(&other, 2).is_none());
        assert!(RepeatedAnswers::new(0).is_none());
    }
}
