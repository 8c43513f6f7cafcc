#![doc = include_str!("../README.md")]

mod error;
pub mod eval;
mod evidence;
mod lists;
mod rules;
mod tokens;
mod voikko;

use std::collections::HashMap;
use std::ops::Range;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

pub use error::NamesError;

use lists::Lists;
use voikko::{Handle, Reading, Voikko};

/// Analyses each handle remembers. Voikko takes about 20 µs a word (measured: 0.78 ms for the
/// 39 words of a 324-character answer), and feedback repeats its words ("kiitos", "oli",
/// "kuraattori"), so remembered analyses make most words free. 10 000 words is a few MB; the
/// cache is emptied when full rather than kept in order, which is enough for Zipf-like text.
const CACHED_WORDS: usize = 10_000;

/// One pooled Voikko handle with its own cache: whoever holds it uses both alone.
struct Analyzer {
    handle: Handle,
    cache: HashMap<String, Vec<Reading>>,
}

impl Analyzer {
    fn new(handle: Handle) -> Self {
        Self {
            handle,
            cache: HashMap::new(),
        }
    }

    fn analyze(&mut self, word: &str) -> Vec<Reading> {
        if let Some(readings) = self.cache.get(word) {
            return readings.clone();
        }
        let readings = self.handle.analyze(word);
        if self.cache.len() >= CACHED_WORDS {
            self.cache.clear();
        }
        self.cache.insert(word.to_owned(), readings.clone());
        readings
    }
}

/// Finds person names in Finnish, Swedish and English text. Load it once per process: loading
/// opens libvoikko (about 4 MB resident) and one handle on its dictionary (about 2 MB each).
///
/// Shareable between threads. A Voikko handle must not be used by two threads at once
/// (voikko.h), so the finder keeps a pool: each call takes an idle handle, or opens another
/// when all are busy, and gives it back. A service therefore ends up with about as many
/// handles as it has threads calling [`find`](Self::find) at the same time, and calls never
/// wait for each other, which a single handle behind a `Mutex` would make them do.
pub struct NameFinder {
    voikko: Voikko,
    idle: Mutex<Vec<Analyzer>>,
    returned: Condvar,
    lists: Lists,
}

impl std::fmt::Debug for NameFinder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NameFinder").finish_non_exhaustive()
    }
}

impl NameFinder {
    /// Loads libvoikko (`libvoikko.so.1`) and its Finnish dictionary and checks that the
    /// dictionary marks first names. Fails, saying which Debian package is missing, when
    /// `libvoikko1` or `voikko-fi` is not installed.
    pub fn load() -> Result<Self, NamesError> {
        let voikko = Voikko::load()?;
        let mut handle = voikko.open_finnish()?;
        let readings = handle.analyze("Matti");
        if !readings.iter().any(|r| r.class == "etunimi") {
            let found = readings
                .iter()
                .map(|r| r.class.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            return Err(NamesError::DictionaryWithoutNames {
                found: if found.is_empty() {
                    "an unknown word".to_owned()
                } else {
                    found
                },
            });
        }
        Ok(Self {
            voikko,
            idle: Mutex::new(vec![Analyzer::new(handle)]),
            returned: Condvar::new(),
            lists: Lists::load(),
        })
    }

    /// Byte ranges of the person names in `text`, in order; names side by side ("Matti
    /// Virtanen", "Juha-Pekka") as one range. Inflected forms are found whole ("Matille",
    /// "Virtasen", "Annas", "Mike'lle").
    pub fn find(&self, text: &str) -> Vec<Range<usize>> {
        let mut analyzer = self.take();
        let spans = rules::find(text, &self.lists, |word| analyzer.analyze(word));
        self.give_back(analyzer);
        spans
    }

    fn idle(&self) -> MutexGuard<'_, Vec<Analyzer>> {
        // The list of idle handles is valid whatever a panicking thread was doing.
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn take(&self) -> Analyzer {
        if let Some(analyzer) = self.idle().pop() {
            return analyzer;
        }
        if let Ok(handle) = self.voikko.open_finnish() {
            return Analyzer::new(handle);
        }
        // Opening worked at load, so this is a resource limit: wait for a handle in use.
        let mut idle = self.idle();
        loop {
            if let Some(analyzer) = idle.pop() {
                return analyzer;
            }
            idle = self
                .returned
                .wait(idle)
                .unwrap_or_else(PoisonError::into_inner);
        }
    }

    fn give_back(&self, analyzer: Analyzer) {
        self.idle().push(analyzer);
        self.returned.notify_one();
    }
}

#[cfg(test)]
mod tests;
