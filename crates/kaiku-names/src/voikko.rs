//! A thin binding to libvoikko's C API (voikko.h), loaded at run time with `dlopen`.
//!
//! Only what name finding needs: open a Finnish handle, analyse one word, read three keys of
//! each analysis, free everything. The library is loaded at run time rather than linked so
//! that the build needs no `-dev` package and no GPL binding crate: libvoikko itself is
//! MPL 1.1 / GPL 2+ / LGPL 2.1+ and is used here under the MPL, as a separate shared object.
//!
//! This is the only module in the workspace with `unsafe`: every call crosses into C. Each
//! `unsafe` block states what it relies on.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString, c_char, c_void};
use std::ptr::NonNull;
use std::sync::Arc;

use libloading::Library;

use crate::NamesError;

/// The soname Debian's `libvoikko1` installs.
pub const LIBRARY: &str = "libvoikko.so.1";

// The C signatures, from voikko.h (libvoikko 4.x). Handles and analyses are opaque structs,
// so `c_void` stands in for them.
type InitFn = unsafe extern "C" fn(
    error: *mut *const c_char,
    langcode: *const c_char,
    path: *const c_char,
) -> *mut c_void;
type TerminateFn = unsafe extern "C" fn(handle: *mut c_void);
type AnalyzeFn = unsafe extern "C" fn(handle: *mut c_void, word: *const c_char) -> *mut *mut c_void;
type FreeAnalysisFn = unsafe extern "C" fn(analysis: *mut *mut c_void);
type ValueFn = unsafe extern "C" fn(analysis: *const c_void, key: *const c_char) -> *mut c_char;
type FreeValueFn = unsafe extern "C" fn(value: *mut c_char);

/// The loaded library and the entry points we call. The function pointers stay valid as long
/// as `_library` is loaded, which is as long as this struct lives; handles keep an `Arc` to it.
struct Api {
    init: InitFn,
    terminate: TerminateFn,
    analyze: AnalyzeFn,
    free_analysis: FreeAnalysisFn,
    value: ValueFn,
    free_value: FreeValueFn,
    _library: Library,
}

/// libvoikko, loaded: opens handles.
#[derive(Clone)]
pub struct Voikko {
    api: Arc<Api>,
}

impl Voikko {
    /// Loads `libvoikko.so.1` and looks up the entry points.
    pub fn load() -> Result<Self, NamesError> {
        Self::load_from(LIBRARY)
    }

    /// Loads libvoikko from `library` (a soname or a path); tests name a missing one.
    pub fn load_from(library: &str) -> Result<Self, NamesError> {
        // SAFETY: loading runs the library's initialisers. libvoikko's only set up static
        // tables; it has no initialiser that depends on the state of this process.
        let library = unsafe { Library::new(library) }
            .map_err(|source| NamesError::LibraryMissing { source })?;
        // SAFETY: each type matches the declaration in voikko.h for libvoikko 4.x (soname 1).
        let api = unsafe {
            Api {
                init: *symbol::<InitFn>(&library, c"voikkoInit")?,
                terminate: *symbol::<TerminateFn>(&library, c"voikkoTerminate")?,
                analyze: *symbol::<AnalyzeFn>(&library, c"voikkoAnalyzeWordCstr")?,
                free_analysis: *symbol::<FreeAnalysisFn>(&library, c"voikko_free_mor_analysis")?,
                value: *symbol::<ValueFn>(&library, c"voikko_mor_analysis_value_cstr")?,
                free_value: *symbol::<FreeValueFn>(
                    &library,
                    c"voikko_free_mor_analysis_value_cstr",
                )?,
                _library: library,
            }
        };
        Ok(Self { api: Arc::new(api) })
    }

    /// Opens a handle on the standard Finnish dictionary.
    pub fn open_finnish(&self) -> Result<Handle, NamesError> {
        self.open(c"fi")
    }

    /// Opens a handle for `language` (a BCP 47 tag) from the standard dictionary locations.
    pub fn open(&self, language: &CStr) -> Result<Handle, NamesError> {
        let mut error: *const c_char = std::ptr::null();
        // SAFETY: `error` is a valid out pointer; the language code is NUL-terminated; a null
        // path means the standard dictionary locations.
        let raw = unsafe { (self.api.init)(&mut error, language.as_ptr(), std::ptr::null()) };
        match NonNull::new(raw) {
            Some(raw) => Ok(Handle {
                api: Arc::clone(&self.api),
                raw,
            }),
            None => {
                let message = if error.is_null() {
                    "voikkoInit failed without a message".to_owned()
                } else {
                    // SAFETY: on failure voikkoInit points `error` at a static C string.
                    unsafe { CStr::from_ptr(error) }
                        .to_string_lossy()
                        .into_owned()
                };
                Err(NamesError::Dictionary { message })
            }
        }
    }
}

/// # Safety
/// `T` must be the function type of the C symbol `name`.
unsafe fn symbol<'lib, T>(
    library: &'lib Library,
    name: &'static CStr,
) -> Result<libloading::Symbol<'lib, T>, NamesError> {
    // SAFETY: the caller guarantees the type.
    unsafe { library.get::<T>(name) }.map_err(|source| NamesError::SymbolMissing {
        symbol: name.to_string_lossy().into_owned(),
        source,
    })
}

/// One Voikko instance. Not `Sync`: voikko.h says "a single handle should not be used
/// simultaneously from multiple threads" (it keeps per-handle caches and scratch buffers), so
/// `analyze` takes `&mut self` and the finder hands each handle to one caller at a time.
pub struct Handle {
    api: Arc<Api>,
    raw: NonNull<c_void>,
}

// SAFETY: a handle may move between threads; only simultaneous use is forbidden, and
// `&mut self` on every call rules that out.
unsafe impl Send for Handle {}

impl Drop for Handle {
    fn drop(&mut self) {
        // SAFETY: `raw` came from voikkoInit and is terminated exactly once, here.
        unsafe { (self.api.terminate)(self.raw.as_ptr()) }
    }
}

/// What one analysis of a word says, reduced to what name finding reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reading {
    /// CLASS: `etunimi`, `sukunimi`, `paikannimi`, `nimi`, `nimisana`, `teonsana`, ...
    pub class: String,
    /// BASEFORM, e.g. "Matti" for "Matille".
    pub base_form: String,
    /// SIJAMUOTO: `nimento`, `omanto`, `sisaolento`, ... (empty for words without case).
    pub case: String,
    /// POSSIBLE_GEOGRAPHICAL_NAME=true: a common noun that is also used as a place name
    /// ("kallio", "koski").
    pub geographic: bool,
}

impl Handle {
    /// Every analysis Voikko has for `word`; empty for a word it does not know.
    pub fn analyze(&mut self, word: &str) -> Vec<Reading> {
        let Ok(word) = CString::new(word) else {
            return Vec::new();
        };
        // SAFETY: `raw` is a live handle used by this caller only (`&mut self`); `word` is
        // NUL-terminated UTF-8, which the Cstr variant expects.
        let analyses = unsafe { (self.api.analyze)(self.raw.as_ptr(), word.as_ptr()) };
        if analyses.is_null() {
            return Vec::new();
        }
        let mut readings = Vec::new();
        for index in 0.. {
            // SAFETY: the result is a NULL-terminated array of analysis pointers; we stop at
            // the terminator.
            let analysis = unsafe { *analyses.add(index) };
            if analysis.is_null() {
                break;
            }
            readings.push(Reading {
                class: self.value(analysis, c"CLASS").unwrap_or_default(),
                base_form: self.value(analysis, c"BASEFORM").unwrap_or_default(),
                case: self.value(analysis, c"SIJAMUOTO").unwrap_or_default(),
                geographic: self
                    .value(analysis, c"POSSIBLE_GEOGRAPHICAL_NAME")
                    .is_some_and(|v| v == "true"),
            });
        }
        // SAFETY: `analyses` came from voikkoAnalyzeWordCstr and is freed once, after the
        // last read of its entries.
        unsafe { (self.api.free_analysis)(analyses) };
        readings
    }

    fn value(&self, analysis: *mut c_void, key: &CStr) -> Option<String> {
        // SAFETY: `analysis` is an entry of a live analysis array; `key` is NUL-terminated.
        let value = unsafe { (self.api.value)(analysis, key.as_ptr()) };
        if value.is_null() {
            return None;
        }
        // SAFETY: a non-null value is a NUL-terminated string we own until we free it,
        // which happens right after copying it.
        let text = unsafe { CStr::from_ptr(value) }
            .to_string_lossy()
            .into_owned();
        // SAFETY: allocated by voikko_mor_analysis_value_cstr, freed once.
        unsafe { (self.api.free_value)(value) };
        Some(text)
    }
}
