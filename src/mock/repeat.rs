//! Answers to requests repeated exactly while the state has not changed: a
//! client polling an unchanged item (a frontend waiting for a project to
//! become ready, a load test) is answered by one lookup, without routing,
//! checking credentials and parameters or running the fixture's rules.
//!
//! Only answers that follow from the request and the state alone are kept:
//! the behaviour stage says so ([`Reply::repeatable`]) for a read answered
//! with the answer kept with its item (see `answer_cache`) whose item is
//! ready. Credentials that expire with time (`auth: lifetime:`) end the
//! answer when they do ([`Reply::repeatable_until`]). The request is the
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
//! Memory is bounded by `--repeat-cache` (the bytes of each kept request,
//! body, session name and target, a body shared with its item counted as
//! if it were not); past it the cache starts empty. Each open connection
//! also holds the answer it was last sent again ([`LastRepeat`]), so a
//! client polling on one connection skips the lookup too.

use super::loaded::Loaded;
use super::reply::Reply;
use crate::behaviour::store::Usage;
use bytes::Bytes;
use hyper::header::HeaderName;
use hyper::http::request::Parts;
use hyper::{HeaderMap, Method, Request, Uri, Version};
use std::hash::{BuildHasher, Hasher};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Instant;

/// Longest request head kept as a key: a client sending headers this large
/// gets every answer built.
const MAX_KEY_BYTES: usize = 4096;

/// The parts of a request its answer may depend on, read in place from
/// a whole request (before it is taken apart) or from its parts.
#[derive(Clone, Copy)]
pub struct Head<'a> {
    pub method: &'a Method,
    pub uri: &'a Uri,
    pub version: Version,
    pub headers: &'a HeaderMap,
}

impl<'a> From<&'a Parts> for Head<'a> {
    fn from(parts: &'a Parts) -> Self {
        Head {
            method: &parts.method,
            uri: &parts.uri,
            version: parts.version,
            headers: &parts.headers,
        }
    }
}

impl<'a, B> From<&'a Request<B>> for Head<'a> {
    fn from(request: &'a Request<B>) -> Self {
        Head {
            method: request.method(),
            uri: request.uri(),
            version: request.version(),
            headers: request.headers(),
        }
    }
}

impl<'a> Head<'a> {
    /// The request's path and query, as sent.
    pub fn target(self) -> &'a str {
        self.uri
            .path_and_query()
            .map_or(self.uri.path(), |p| p.as_str())
    }
}

/// A request as it is compared with the one an answer was kept for: each
/// part as sent, so the comparison is of equal parts, without a walk.
/// Copies, all of them: a request's parts share its connection's read
/// buffer, which a kept answer must not hold on to.
#[derive(Debug)]
struct KeptHead {
    method: Method,
    version: Version,
    /// The scheme and authority of a target in absolute form.
    scheme: Option<Box<str>>,
    authority: Option<Box<str>>,
    /// Path and query; the journal's target of a repeated answer too.
    target: Arc<str>,
    headers: Box<[(HeaderName, Box<[u8]>)]>,
}

impl KeptHead {
    fn of(head: Head<'_>) -> Self {
        KeptHead {
            method: head.method.clone(),
            version: head.version,
            scheme: head.uri.scheme_str().map(Into::into),
            authority: head.uri.authority().map(|a| a.as_str().into()),
            target: head.target().into(),
            headers: head
                .headers
                .iter()
                .map(|(name, value)| (name.clone(), value.as_bytes().into()))
                .collect(),
        }
    }

    /// Whether `head` is this request: the same method, version, target
    /// (with scheme and authority) and headers, in order.
    fn is(&self, head: Head<'_>) -> bool {
        self.method == head.method
            && self.version == head.version
            && self.headers.len() == head.headers.len()
            && *self.target == *head.target()
            && self.scheme.as_deref() == head.uri.scheme_str()
            && self.authority.as_deref() == head.uri.authority().map(|a| a.as_str())
            && self.headers.iter().zip(head.headers).all(
                |((name, value), (other_name, other_value))| {
                    name == other_name && **value == *other_value.as_bytes()
                },
            )
    }
}

/// What a request repeated exactly is answered with.
#[derive(Debug)]
pub struct Repeat {
    /// The request it answered.
    head: KeptHead,
    /// What it counts for in the cache's budget.
    cost: usize,
    /// The store's change count the answer was made at.
    stamp: u64,
    /// When it stops being the answer whatever the state: the request's
    /// credentials expire then.
    until: Option<Instant>,
    /// The answer as the log and journal see it.
    pub reply: Reply,
    /// Its headers as hyper sends them, converted once.
    pub headers: HeaderMap,
    /// The session the request was for, which counts as used again.
    pub session: Arc<str>,
    /// Where that session's use is counted, marked without a lookup.
    pub usage: Option<Usage>,
}

impl Repeat {
    pub fn body(&self) -> Bytes {
        self.reply.body.clone()
    }

    /// The request's path and query, for the journal.
    pub fn target(&self) -> Arc<str> {
        self.head.target.clone()
    }

    /// Whether `head`, sent at `now` with the change count at `stamp`, is
    /// the request this answered, and this is still its answer.
    fn answers(&self, head: Head<'_>, stamp: u64, now: Instant) -> bool {
        self.stamp == stamp && self.until.is_none_or(|until| now < until) && self.head.is(head)
    }
}

/// Hands `f` the parts of a request that make its key: method, target (a
/// scheme and authority too, in the absolute form), version and every
/// header's name and value, in order. Each is written with its length in
/// front, so no two requests share a key.
fn each_part(head: Head<'_>, mut f: impl FnMut(&[u8])) {
    f(head.method.as_str().as_bytes());
    f(head.uri.scheme_str().unwrap_or_default().as_bytes());
    f(head.uri.authority().map_or("", |a| a.as_str()).as_bytes());
    f(head.target().as_bytes());
    f(match head.version {
        hyper::Version::HTTP_09 => b"0.9",
        hyper::Version::HTTP_10 => b"1.0",
        hyper::Version::HTTP_11 => b"1.1",
        hyper::Version::HTTP_2 => b"2",
        _ => b"3",
    });
    for (name, value) in head.headers {
        f(name.as_str().as_bytes());
        f(value.as_bytes());
    }
}

/// What looking for a repeated answer found before a request was handled.
#[derive(Debug, Clone, Copy)]
pub enum Lookup {
    /// Not looked for yet.
    NotDone,
    /// None was found; the request's key, if it may have one kept for it.
    Missed(Option<RequestKey>),
}

/// A request as the key of its answer, found without copying the request:
/// a hash of its parts ([`each_part`]), which a kept answer confirms by
/// comparing them all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestKey {
    hash: u64,
    /// Bytes of the parts with their lengths.
    len: usize,
}

/// The kept answers of one loaded spec and fixture.
#[derive(Debug)]
pub struct RepeatedAnswers {
    budget: usize,
    hashing: foldhash::fast::RandomState,
    kept: RwLock<Kept>,
}

#[derive(Debug, Default)]
struct Kept {
    bytes: usize,
    answers: foldhash::HashMap<u64, Arc<Repeat>>,
}

impl RepeatedAnswers {
    /// A cache of at most `budget` bytes; `None` for 0 (turned off).
    pub fn new(budget: usize) -> Option<Self> {
        (budget > 0).then(|| Self {
            budget,
            hashing: foldhash::fast::RandomState::default(),
            kept: RwLock::default(),
        })
    }

    /// The key of a request with no body; `None` when its head is longer
    /// than [`MAX_KEY_BYTES`].
    pub fn key_of(&self, head: Head<'_>) -> Option<RequestKey> {
        let mut hasher = self.hashing.build_hasher();
        let mut len = 0;
        each_part(head, |part| {
            hasher.write_u32(part.len() as u32);
            hasher.write(part);
            len += 4 + part.len();
        });
        (len <= MAX_KEY_BYTES).then(|| RequestKey {
            hash: hasher.finish(),
            len,
        })
    }

    /// The answer kept for the request `head` (whose key is `key`), sent
    /// at `now`, if it was made at change count `stamp` and still holds.
    pub fn find(
        &self,
        key: &RequestKey,
        head: Head<'_>,
        stamp: u64,
        now: Instant,
    ) -> Option<Arc<Repeat>> {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        kept.answers
            .get(&key.hash)
            .filter(|repeat| repeat.answers(head, stamp, now))
            .cloned()
    }

    /// The answer kept for the request `head`, sent at `now` with the
    /// change count at `stamp`: the one last repeated on its connection
    /// (`last`, kept under `loaded`), or one found by the request's key,
    /// which `last` then remembers. Otherwise the key, if the request has
    /// one, to keep its answer under.
    pub fn lookup(
        &self,
        loaded: &Arc<Loaded>,
        head: Head<'_>,
        (stamp, now): (u64, Instant),
        last: Option<&LastRepeat>,
    ) -> Result<Arc<Repeat>, Option<RequestKey>> {
        if let Some(repeat) = last.and_then(|last| last.again(loaded, head, stamp, now)) {
            return Ok(repeat);
        }
        let key = self.key_of(head).ok_or(None)?;
        let repeat = self.find(&key, head, stamp, now).ok_or(Some(key))?;
        if let Some(last) = last {
            last.remember(loaded, &repeat);
        }
        Ok(repeat)
    }

    /// Keeps `reply`, the answer to the request `head` (whose key is
    /// `key`) made at change count `stamp`, for `session` (used at
    /// `usage`).
    pub fn keep(
        &self,
        key: RequestKey,
        head: Head<'_>,
        stamp: u64,
        reply: &Reply,
        (session, usage): (&str, Option<Usage>),
    ) {
        let cost = key.len + reply.body.len() + session.len() + head.target().len();
        if cost > self.budget {
            return;
        }
        let repeat = Arc::new(Repeat {
            head: KeptHead::of(head),
            cost,
            stamp,
            until: reply.repeatable_until.as_deref().copied(),
            headers: reply.header_map(),
            reply: reply.clone(),
            session: session.into(),
            usage,
        });
        let mut kept = self.kept.write().unwrap_or_else(|e| e.into_inner());
        if kept.bytes + cost > self.budget {
            *kept = Kept::default();
        }
        kept.bytes += cost;
        if let Some(before) = kept.answers.insert(key.hash, repeat) {
            kept.bytes -= before.cost;
        }
    }

    /// How many answers are kept.
    pub fn kept(&self) -> usize {
        let kept = self.kept.read().unwrap_or_else(|e| e.into_inner());
        kept.answers.len()
    }
}

/// The answer last repeated on one connection, with the spec and fixture it
/// was kept under: a client polling on a kept-alive connection sends the
/// same request again and again, which is then confirmed by comparing it
/// with this one, without hashing it or looking it up.
#[derive(Default)]
pub struct LastRepeat(Mutex<Option<(Arc<Loaded>, Arc<Repeat>)>>);

impl LastRepeat {
    /// The answer last repeated, if `head` (sent at `now`) is its request,
    /// `loaded` is still in force, the change count is still `stamp` and
    /// the answer still holds.
    pub fn again(
        &self,
        loaded: &Arc<Loaded>,
        head: Head<'_>,
        stamp: u64,
        now: Instant,
    ) -> Option<Arc<Repeat>> {
        let last = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let (under, repeat) = last.as_ref()?;
        (Arc::ptr_eq(under, loaded) && repeat.answers(head, stamp, now)).then(|| repeat.clone())
    }

    /// Remembers `repeat`, just sent, kept under `loaded`.
    pub fn remember(&self, loaded: &Arc<Loaded>, repeat: &Arc<Repeat>) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((loaded.clone(), repeat.clone()));
    }
}

/// The request's path and query, as sent.
pub fn target(parts: &Parts) -> &str {
    Head::from(parts).target()
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

    fn reply(body: &str) -> Reply {
        Reply::bytes(200, "application/json", Bytes::from(body.to_string()))
    }

    fn kept(cache: &RepeatedAnswers, request: &Parts, stamp: u64, body: &str) {
        let key = cache.key_of(request.into()).expect("a key");
        cache.keep(key, request.into(), stamp, &reply(body), ("s", None));
    }

    fn found(cache: &RepeatedAnswers, request: &Parts, stamp: u64) -> Option<Arc<Repeat>> {
        cache.find(
            &cache.key_of(request.into())?,
            request.into(),
            stamp,
            Instant::now(),
        )
    }

    #[test]
    fn an_answer_is_for_the_whole_request_head_only() {
        let cache = RepeatedAnswers::new(1 << 20).unwrap();
        let plain = parts("/a?x=1", &[("x-token", "t")]);
        kept(&cache, &plain, 1, "{}");
        assert!(found(&cache, &parts("/a?x=1", &[("x-token", "t")]), 1).is_some());
        let mut head = parts("/a?x=1", &[("x-token", "t")]);
        head.method = hyper::Method::HEAD;
        let mut old = parts("/a?x=1", &[("x-token", "t")]);
        old.version = hyper::Version::HTTP_10;
        let absolute = parts("http://elsewhere/a?x=1", &[("x-token", "t")]);
        for other in [
            parts("/a?x=2", &[("x-token", "t")]),
            parts("/a", &[("x-token", "t")]),
            parts("/a?x=1", &[("x-token", "u")]),
            parts("/a?x=1", &[("x-token", "t"), ("accept", "text/html")]),
            parts("/a?x=1", &[]),
            // A name and value split elsewhere is another request.
            parts("/a?x=1", &[("x-toke", "nt")]),
            head,
            old,
            absolute,
        ] {
            assert!(found(&cache, &other, 1).is_none(), "{other:?}");
        }
    }

    #[test]
    fn a_hash_shared_by_two_requests_answers_only_the_one_kept() {
        let cache = RepeatedAnswers::new(1 << 20).unwrap();
        let kept_for = parts("/a", &[]);
        kept(&cache, &kept_for, 1, "{}");
        let other = parts("/b", &[]);
        // Forge a key that collides: the same hash, another request.
        let forged = RequestKey {
            hash: cache.key_of((&kept_for).into()).unwrap().hash,
            len: 0,
        };
        let now = Instant::now();
        assert!(cache.find(&forged, (&other).into(), 1, now).is_none());
        assert!(cache.find(&forged, (&kept_for).into(), 1, now).is_some());
    }

    #[test]
    fn a_head_too_long_is_not_a_key() {
        let cache = RepeatedAnswers::new(1 << 20).unwrap();
        let long = "v".repeat(MAX_KEY_BYTES);
        assert!(
            cache
                .key_of((&parts("/a", &[("x-long", &long)])).into())
                .is_none()
        );
    }

    #[test]
    fn an_answer_is_found_only_at_the_change_count_it_was_made_at() {
        let cache = RepeatedAnswers::new(1 << 20).unwrap();
        let request = parts("/a", &[]);
        assert!(found(&cache, &request, 3).is_none());
        kept(&cache, &request, 3, "{}");
        let answer = found(&cache, &request, 3).expect("kept");
        assert_eq!(answer.body(), Bytes::from_static(b"{}"));
        assert_eq!(&*answer.session, "s");
        assert_eq!(
            answer.headers.get("content-type").unwrap(),
            "application/json"
        );
        assert!(found(&cache, &request, 4).is_none());
    }

    #[test]
    fn past_its_budget_the_cache_starts_empty() {
        let cache = RepeatedAnswers::new(300).unwrap();
        let body = "x".repeat(100);
        for n in 0..3 {
            kept(&cache, &parts(&format!("/a/{n}"), &[]), 1, &body);
        }
        // Each costs 135 bytes (30 of request, 100 of body, 1 of session,
        // 4 of target): the third found the cache full, which started
        // again with it alone.
        assert_eq!(cache.kept(), 1);
        assert_eq!(cache.kept.read().unwrap().bytes, 135);
        let last = parts("/a/2", &[]);
        assert!(found(&cache, &last, 1).is_some());
        // Kept again under the same key, it costs no more.
        let before = cache.kept.read().unwrap().bytes;
        for _ in 0..10 {
            kept(&cache, &last, 2, &body);
        }
        assert_eq!(cache.kept.read().unwrap().bytes, before);
        assert!(found(&cache, &last, 2).is_some());
        // One larger than the whole budget is not kept.
        let other = parts("/b", &[]);
        kept(&cache, &other, 2, &"x".repeat(500));
        assert!(found(&cache, &other, 2).is_none());
        assert!(cache.kept.read().unwrap().bytes <= 300);
        assert!(RepeatedAnswers::new(0).is_none());
    }
}
