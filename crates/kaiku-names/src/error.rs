/// Why a [`NameFinder`](crate::NameFinder) could not be loaded. Every variant means names
/// would go unrecognised, so a service that stores open text must not start without one.
#[derive(Debug, thiserror::Error)]
pub enum NamesError {
    #[error(
        "cannot load {library}: install the Debian packages libvoikko1 and voikko-fi \
         (apt-get install libvoikko1 voikko-fi): {source}",
        library = crate::voikko::LIBRARY
    )]
    LibraryMissing { source: libloading::Error },
    #[error(
        "{library} lacks the function {symbol} (libvoikko 4.x is needed; install the Debian \
         package libvoikko1): {source}",
        library = crate::voikko::LIBRARY
    )]
    SymbolMissing {
        symbol: String,
        source: libloading::Error,
    },
    #[error(
        "libvoikko found no Finnish dictionary: install the Debian package voikko-fi \
         (it puts the dictionary in /usr/lib/voikko): {message}"
    )]
    Dictionary { message: String },
    #[error(
        "the Finnish dictionary libvoikko loaded does not mark first names (it read \"Matti\" \
         as {found}); install Debian's voikko-fi, whose dictionary does"
    )]
    DictionaryWithoutNames { found: String },
}
