//! The spec's warnings, located off the start's path.
//!
//! A warning names its file and line, and finding a line in a 4 MB YAML
//! spec means parsing it again (about a quarter of Waldur's start). The
//! lines are found on a thread of their own while the start goes on, and
//! the first reader of the warnings waits for them.

use super::SpecError;
use std::sync::{Mutex, OnceLock};
use std::thread::JoinHandle;

/// Mistakes that do not stop a spec from serving.
pub struct Warnings {
    ready: OnceLock<Vec<SpecError>>,
    pending: Mutex<Option<JoinHandle<Vec<SpecError>>>>,
}

impl Warnings {
    /// Warnings already located.
    pub fn located(warnings: Vec<SpecError>) -> Self {
        Self {
            ready: OnceLock::from(warnings),
            pending: Mutex::new(None),
        }
    }

    /// `located`, followed by what `locate` makes on its own thread.
    pub fn later(
        mut located: Vec<SpecError>,
        locate: impl FnOnce() -> Vec<SpecError> + Send + 'static,
    ) -> Self {
        let spawned = std::thread::Builder::new()
            .name("locate-warnings".into())
            .spawn(move || {
                located.extend(locate());
                located
            });
        match spawned {
            Ok(handle) => Self {
                ready: OnceLock::new(),
                pending: Mutex::new(Some(handle)),
            },
            // No thread to be had: nothing is located rather than a
            // start that fails over its warnings.
            Err(_) => Self::located(Vec::new()),
        }
    }

    /// The warnings, waiting for them if they are still being located.
    pub fn get(&self) -> &[SpecError] {
        self.ready.get_or_init(|| {
            let handle = self.pending.lock().ok().and_then(|mut p| p.take());
            handle.and_then(|h| h.join().ok()).unwrap_or_default()
        })
    }
}

impl std::fmt::Debug for Warnings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.get()).finish()
    }
}
