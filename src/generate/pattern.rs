//! Strings that match a regular expression: the spec's `pattern`s and a
//! fixture's `generate: {pattern}`, compiled by one function.

use rand::RngExt;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// A regular expression compiled into the generator that draws strings
/// matching it. A fixture's `generate: {pattern}` is compiled once at load
/// by [`PatternGenerator::compile`], the same function that the spec's
/// `pattern`s go through, so a pattern that loads is one that generates.
/// The longest string a pattern may generate, in bytes: ids and codes are
/// short, and `[a-z]{100000000}` would take a request 48 s and answer a
/// 100 MB id (`--max-generated-length`).
pub const DEFAULT_MAX_LENGTH: usize = 65_536;

static MAX_LENGTH: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_LENGTH);

/// Sets the longest string patterns compiled from now on may generate (the
/// CLI's `--max-generated-length`, set once at start).
pub fn set_max_length(bytes: usize) {
    MAX_LENGTH.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// How often an unbounded repetition (`*`, `+`, `{2,}`) repeats at most
/// beyond its minimum when generating.
const MAX_REPEAT: u32 = 8;

/// The longest string, in bytes, the generator can make from `hir`, as it
/// generates (an unbounded repetition goes `max_repeat` past its minimum),
/// saturating instead of overflowing: nested repetitions multiply.
fn longest(hir: &regex_syntax::hir::Hir, max_repeat: u32) -> usize {
    use regex_syntax::hir::HirKind;
    match hir.kind() {
        HirKind::Empty | HirKind::Look(_) => 0,
        HirKind::Literal(literal) => literal.0.len(),
        HirKind::Class(class) => class.maximum_len().unwrap_or(4),
        HirKind::Capture(capture) => longest(&capture.sub, max_repeat),
        HirKind::Repetition(repetition) => {
            let times = repetition
                .max
                .unwrap_or_else(|| repetition.min.saturating_add(max_repeat));
            longest(&repetition.sub, max_repeat).saturating_mul(times as usize)
        }
        HirKind::Concat(parts) => parts.iter().fold(0, |sum: usize, part| {
            sum.saturating_add(longest(part, max_repeat))
        }),
        HirKind::Alternation(choices) => choices
            .iter()
            .map(|choice| longest(choice, max_repeat))
            .max()
            .unwrap_or(0),
    }
}

/// Why a pattern cannot generate strings.
#[derive(Debug, thiserror::Error)]
pub enum PatternError {
    #[error("not a regular expression: {0}")]
    NotRegex(Box<regex_syntax::Error>),
    #[error("no string can be generated from it ({0})")]
    NotGenerable(#[from] rand_regex::Error),
    #[error(
        "it can generate strings of {length} bytes, more than the {limit} --max-generated-length allows"
    )]
    TooLong { length: usize, limit: usize },
}

#[derive(Debug, Clone)]
pub struct PatternGenerator {
    regex: Arc<rand_regex::Regex>,
}

impl PatternGenerator {
    /// Reads `pattern` as JSON Schema does (ECMA-262: `\d` and `\w` are
    /// ASCII). Anchors at the ends are implied by generating the whole
    /// string, and the generator refuses them, so they are taken off.
    pub fn compile(pattern: &str) -> Result<Self, PatternError> {
        let core = pattern.strip_prefix('^').unwrap_or(pattern);
        let core = match core.strip_suffix('$') {
            Some(c) if !c.ends_with('\\') => c,
            _ => core,
        };
        // ASCII classes first; a pattern that can only be read with Unicode
        // semantics (a bare `.`, which could match half a UTF-8 character
        // byte-wise) is read again with them.
        match Self::read(core, false) {
            Ok(generator) => Ok(generator),
            Err(ascii) => Self::read(core, true).map_err(|unicode| match (ascii, unicode) {
                // What Unicode reading found beyond a syntax error says more.
                (PatternError::NotRegex(_), generable @ PatternError::NotGenerable(_)) => generable,
                (ascii, _) => ascii,
            }),
        }
    }

    fn read(core: &str, unicode: bool) -> Result<Self, PatternError> {
        let hir = regex_syntax::ParserBuilder::new()
            .unicode(unicode)
            .utf8(true)
            .build()
            .parse(core)
            .map_err(|e| PatternError::NotRegex(Box::new(e)))?;
        let limit = MAX_LENGTH.load(std::sync::atomic::Ordering::Relaxed);
        // Checked before the generator is built: it sizes its buffer by the
        // longest string, and multiplies repetitions without a bound.
        let length = longest(&hir, MAX_REPEAT);
        if length > limit {
            return Err(PatternError::TooLong { length, limit });
        }
        let regex = rand_regex::Regex::with_hir(hir, MAX_REPEAT)?;
        Ok(Self {
            regex: Arc::new(regex),
        })
    }

    /// A string with `min..=max` characters, if one is found in a few draws.
    pub fn sample<R: rand::Rng>(
        &self,
        rng: &mut R,
        min: usize,
        max: Option<usize>,
    ) -> Option<String> {
        for _ in 0..16 {
            let sample: String = rng.sample(&*self.regex);
            let len = sample.chars().count();
            if len >= min && max.is_none_or(|m| len <= m) {
                return Some(sample);
            }
        }
        None
    }

    /// A string of any length.
    pub fn any<R: rand::Rng>(&self, rng: &mut R) -> String {
        rng.sample(&*self.regex)
    }
}

/// The generators of one spec's `pattern`s, each compiled on first use.
/// They live with the spec's compiled schemas, so a reload frees them with
/// the spec, and their number is bounded by the spec's. Patterns that do not
/// compile are remembered too, so a bad one costs one parse.
#[derive(Default)]
pub struct Patterns {
    compiled: RwLock<HashMap<String, Option<PatternGenerator>>>,
}

impl Patterns {
    /// A random string matching `pattern` with `min..=max` characters, if
    /// one is found.
    pub fn random_matching<R: rand::Rng>(
        &self,
        rng: &mut R,
        pattern: &str,
        min: usize,
        max: Option<usize>,
    ) -> Option<String> {
        self.generator(pattern)?.sample(rng, min, max)
    }

    fn generator(&self, pattern: &str) -> Option<PatternGenerator> {
        if let Some(found) = self
            .compiled
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(pattern)
        {
            return found.clone();
        }
        let compiled = PatternGenerator::compile(pattern).ok();
        self.compiled
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(pattern.to_string(), compiled.clone());
        compiled
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn nested_stars_generate_strings_that_match() {
        // A pattern a backtracking matcher takes exponential time on, and
        // which once generated `""` (it needs at least one `b`).
        let generator = PatternGenerator::compile("(a*)*b+.*").expect("compiles");
        let matcher = regex::Regex::new("^(a*)*b+.*$").expect("a regex");
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let sample = generator.any(&mut rng);
            assert!(matcher.is_match(&sample), "{sample:?}");
        }
    }

    #[test]
    fn a_generator_whose_strings_could_be_too_long_is_refused_without_overflowing() {
        for pattern in ["[a-z]{6}", "p-[0-9]+", "(ab|c)*d", "\\w{1,64}"] {
            assert!(PatternGenerator::compile(pattern).is_ok(), "{pattern}");
        }
        for pattern in [
            "[a-z]{100000000}",
            // Nested repetitions multiply past what 64 bits hold.
            "(((((((a{1000}){1000}){1000}){1000}){1000}){1000}){1000})",
            "(x{70000})+",
        ] {
            assert!(
                matches!(
                    PatternGenerator::compile(pattern),
                    Err(PatternError::TooLong { .. })
                ),
                "{pattern}"
            );
        }
    }
}
