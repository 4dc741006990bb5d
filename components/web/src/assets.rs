//! The app's files, embedded at build time (`build.rs` generates the table from Vite's output).

/// One file of the built app, with its precompressed variants.
#[derive(Debug)]
pub struct Asset {
    /// Its URL path, e.g. `/index.html` or `/assets/index-3fa9c1.js`.
    pub path: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// A strong ETag of the uncompressed bytes (quoted, as sent).
    pub etag: &'static str,
    /// The bytes as built.
    pub identity: &'static [u8],
    /// Brotli-compressed, when that was clearly smaller.
    pub br: Option<&'static [u8]>,
    /// gzip-compressed, when that was clearly smaller.
    pub gzip: Option<&'static [u8]>,
}

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// The asset at `path`, if the build has one (`ASSETS` is sorted by path).
pub fn find<'a>(assets: &'a [Asset], path: &str) -> Option<&'a Asset> {
    assets
        .binary_search_by(|asset| asset.path.cmp(path))
        .ok()
        .map(|i| &assets[i])
}
