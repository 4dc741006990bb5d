//! Choosing a content coding from `Accept-Encoding` (RFC 9110, section 12.5.3).

/// A representation of an asset the component can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    /// Brotli (`br`).
    Brotli,
    /// gzip.
    Gzip,
    /// As built, uncompressed.
    Identity,
}

impl Encoding {
    /// The `Content-Encoding` token, `None` for identity (which is never named).
    pub fn token(self) -> Option<&'static str> {
        match self {
            Self::Brotli => Some("br"),
            Self::Gzip => Some("gzip"),
            Self::Identity => None,
        }
    }
}

/// The encoding to send, given the request's `Accept-Encoding` and which compressed variants
/// exist. The client's highest `q` wins; on a tie the smaller format (brotli, then gzip) wins. A
/// coding with `q=0` is never chosen, and `*` stands for every coding the header does not name.
/// Identity is the fallback even when the client refuses it: serving what we have beats a 406
/// for a static page, and it is what common servers do.
pub fn negotiate(accept_encoding: Option<&str>, has_brotli: bool, has_gzip: bool) -> Encoding {
    let Some(header) = accept_encoding else {
        return Encoding::Identity;
    };
    let weights: Vec<(String, f32)> = header.split(',').filter_map(parse_item).collect();
    let weight_of = |coding: &str| -> f32 {
        weights
            .iter()
            .find(|(name, _)| name == coding)
            .or_else(|| weights.iter().find(|(name, _)| name == "*"))
            .map_or(0.0, |(_, q)| *q)
    };
    let mut best = Encoding::Identity;
    let mut best_q = 0.0_f32;
    for (encoding, available, aliases) in [
        (Encoding::Brotli, has_brotli, &["br"][..]),
        (Encoding::Gzip, has_gzip, &["gzip", "x-gzip"][..]),
    ] {
        if !available {
            continue;
        }
        let q = aliases
            .iter()
            .map(|alias| weight_of(alias))
            .fold(0.0, f32::max);
        if q > best_q {
            best = encoding;
            best_q = q;
        }
    }
    best
}

/// `coding[;q=weight]` as (lower-cased coding, weight); a malformed weight drops the item.
fn parse_item(item: &str) -> Option<(String, f32)> {
    let mut parts = item.split(';');
    let coding = parts.next()?.trim().to_ascii_lowercase();
    if coding.is_empty() {
        return None;
    }
    let mut q = 1.0;
    for param in parts {
        let (name, value) = param.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            q = value
                .trim()
                .parse::<f32>()
                .ok()
                .filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some((coding, q))
}

#[cfg(test)]
mod tests {
    use super::*;
    use Encoding::*;

    #[test]
    fn no_header_means_identity() {
        assert_eq!(negotiate(None, true, true), Identity);
    }

    #[test]
    fn chromium_over_plain_http_gets_gzip_and_over_https_brotli() {
        assert_eq!(negotiate(Some("gzip, deflate"), true, true), Gzip);
        assert_eq!(
            negotiate(Some("gzip, deflate, br, zstd"), true, true),
            Brotli
        );
    }

    #[test]
    fn only_existing_variants_are_chosen() {
        assert_eq!(negotiate(Some("br, gzip"), false, true), Gzip);
        assert_eq!(negotiate(Some("br, gzip"), false, false), Identity);
        assert_eq!(negotiate(Some("br"), false, true), Identity);
    }

    #[test]
    fn the_clients_weights_win_over_ours_and_zero_refuses() {
        assert_eq!(negotiate(Some("br;q=0.5, gzip;q=0.8"), true, true), Gzip);
        assert_eq!(negotiate(Some("br;q=0, gzip"), true, true), Gzip);
        assert_eq!(negotiate(Some("gzip;q=0, br;q=0"), true, true), Identity);
        assert_eq!(negotiate(Some("GZIP; Q=1"), false, true), Gzip);
    }

    #[test]
    fn star_covers_codings_not_named() {
        assert_eq!(negotiate(Some("*"), true, true), Brotli);
        assert_eq!(negotiate(Some("br;q=0, *"), true, true), Gzip);
        assert_eq!(negotiate(Some("*;q=0"), true, true), Identity);
        assert_eq!(negotiate(Some("x-gzip"), false, true), Gzip);
    }

    #[test]
    fn malformed_items_are_ignored_not_fatal() {
        assert_eq!(negotiate(Some("br;q=lots, gzip"), true, true), Gzip);
        assert_eq!(
            negotiate(Some(",,;, gzip;q=2, br;q=0.1"), true, true),
            Brotli
        );
        assert_eq!(negotiate(Some(""), true, true), Identity);
    }
}
