//! Chart stage: colours. One fixed colour per well-known provider so a provider looks the same in
//! every chart of every scenario; unknown providers get a colour picked by a stable hash of the name.

/// An sRGB colour with straight alpha (1.0 = opaque).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Rgba {
    pub r: u8,
    pub g: u8,
    pub b: u8,
    pub a: f64,
}

pub(crate) const fn rgb(hex: u32) -> Rgba {
    Rgba {
        r: (hex >> 16) as u8,
        g: (hex >> 8) as u8,
        b: hex as u8,
        a: 1.0,
    }
}

impl Rgba {
    pub fn alpha(self, a: f64) -> Rgba {
        Rgba { a, ..self }
    }

    /// `f` of the way to `to` (0: unchanged), opaque.
    pub fn mix(self, to: Rgba, f: f64) -> Rgba {
        let m = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
        let (r, g, b) = (m(self.r, to.r), m(self.g, to.g), m(self.b, to.b));
        rgb(u32::from_be_bytes([0, r, g, b]))
    }

    /// The colour mixed with white, opaque: `keep` of the colour (1 = unchanged). Lighter
    /// variants of a provider (on-demand use, usage cost) are drawn with this.
    pub fn tint(self, keep: f64) -> Rgba {
        WHITE.mix(self, keep)
    }
}

pub(crate) const WHITE: Rgba = rgb(0xFFFFFF);
/// Text and the demand line: near-black reads as "the thing to meet" against any provider colour.
pub(crate) const INK: Rgba = rgb(0x1A1A1A);
pub(crate) const INK_SOFT: Rgba = rgb(0x555555);
pub(crate) const GRID: Rgba = rgb(0xE3E3E3);
pub(crate) const AXIS: Rgba = rgb(0x8C8C8C);
/// Capacity available but not reserved: a light neutral so it never reads as a provider.
pub(crate) const SPARE: Rgba = rgb(0xDADADA);
/// Unserved demand: a pure red that is in no provider's palette slot.
pub(crate) const UNSERVED: Rgba = rgb(0xE8112D);

/// Well-known providers, in stack order. Hues from the colour-blind-safe Okabe–Ito and Paul Tol
/// sets, with lightness alternating light / dark down the order (CIE L* in the comments), so two
/// neighbours in a stack differ in lightness as well as hue and stay apart in thin bands and for
/// colour-blind readers; aws (light orange) and oracle (dark wine) no longer share a hue family.
/// None of them is the grey of spare capacity or the red of unserved demand.
const KNOWN: &[(&str, u32)] = &[
    ("aws", 0xE69F00),       // Okabe–Ito orange, L* 71
    ("azure", 0x0072B2),     // Okabe–Ito blue, L* 46
    ("gcp", 0x5FC27E),       // light green, L* 71
    ("oracle", 0x882255),    // Tol wine, L* 32
    ("lambda", 0xCC79A7),    // Okabe–Ito reddish purple, L* 61
    ("coreweave", 0x7F5A10), // dark ochre, L* 41
    ("nebius", 0xF0E442),    // Okabe–Ito yellow, L* 89
    ("onprem", 0x332288),    // Tol indigo, L* 22
    ("together", 0x56B4E9),  // Okabe–Ito sky blue, L* 70
    ("crusoe", 0x4C5C2C),    // dark olive, L* 37
    ("runpod", 0x999933),    // Tol olive, L* 62
    ("vultr", 0xAA4499),     // Tol purple, L* 46
    ("ibm", 0x88CCEE),       // Tol cyan, L* 79
    ("alibaba", 0x6E2C00),   // dark brown, L* 27
];

/// Spellings that mean a well-known provider.
const ALIASES: &[(&str, &str)] = &[
    ("amazon", "aws"),
    ("google", "gcp"),
    ("microsoft", "azure"),
    ("oci", "oracle"),
    ("on-prem", "onprem"),
    ("on_prem", "onprem"),
    ("on-premises", "onprem"),
    ("lambdalabs", "lambda"),
    ("lambda-labs", "lambda"),
];

/// Picked by hash for unknown providers: Paul Tol's light set and a few darker tones, chosen to
/// differ from every well-known provider's colour, the spare grey and the unserved red. (Unknown
/// providers may share a colour with each other; a fixed colour per name matters more.)
const FALLBACK: &[u32] = &[
    0x77AADD, 0xEE8866, 0xEEDD88, 0xFFAABB, 0x99DDFF, 0x44BB99, 0xBBCC33, 0x8C564B, 0x5D3A9B,
    0x762A83, 0x1B7837, 0x4B6A88,
];

/// The well-known name a provider's spelling means (`google` → `gcp`), lower case.
fn provider_key(provider: &str) -> String {
    let key = provider.trim().to_ascii_lowercase();
    let alias = ALIASES.iter().find(|(alias, _)| *alias == key);
    alias.map_or(key, |(_, k)| k.to_string())
}

/// Where a provider sits in every stack, keyed by its name alone so the order is the same in
/// every chart of every scenario: well-known providers in the order of `KNOWN`, then the others
/// alphabetically. Sort by this key (bottom of the stack first).
pub(crate) fn provider_order(provider: &str) -> (usize, String, String) {
    let key = provider_key(provider);
    let rank = KNOWN.iter().position(|(name, _)| *name == key);
    (rank.unwrap_or(KNOWN.len()), key, provider.to_string())
}

/// The colour of a provider, the same in every chart and every run.
pub(crate) fn provider_colour(provider: &str) -> Rgba {
    let key = provider_key(provider);
    let hashed = || FALLBACK[(fnv1a(key.as_bytes()) % FALLBACK.len() as u64) as usize];
    let known = KNOWN.iter().find(|(name, _)| *name == key);
    rgb(known.map_or_else(hashed, |(_, hex)| *hex))
}

/// Scenarios after the baseline (drawn in ink) in the compare charts, well-separated hues:
/// raspberry, blue, orange, green, purple, teal, brown, olive. They only ever appear in charts
/// without provider colours (the delta chart uses `COMPONENTS`).
const SCENARIOS: [u32; 8] = [
    0xD81B60, 0x1E88E5, 0xF57C00, 0x2E7D32, 0x7B1FA2, 0x00897B, 0x8D6E63, 0x9E9D24,
];

/// The colour of the `i`th scenario of a comparison (colours repeat after nine scenarios).
pub(crate) fn scenario_colour(i: usize) -> Rgba {
    match i {
        0 => INK,
        i => rgb(SCENARIOS[(i - 1) % SCENARIOS.len()]),
    }
}

/// Cost components of the delta chart: commit (blue), usage (green), route (amber).
pub(crate) const COMPONENTS: [Rgba; 3] = [rgb(0x3F6FB5), rgb(0x8DB854), rgb(0xE3A33B)];

/// Viridis (matplotlib's, sampled at ninths): perceptually uniform, colour-blind safe, readable
/// in greyscale; dark purple = nothing served, yellow = everything served.
const VIRIDIS: [u32; 10] = [
    0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C,
    0xFDE725,
];

/// The heatmap colour of a percentage (clamped to 0..=100).
pub(crate) fn ramp(pct: f64) -> Rgba {
    let t = (pct / 100.0).clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    rgb(VIRIDIS[i]).mix(rgb(VIRIDIS[i + 1]), t - i as f64)
}

/// Near-black on light fills, white on dark ones (WCAG contrast: the larger wins).
pub(crate) fn text_on(c: Rgba) -> Rgba {
    let l = luminance(c);
    let ink_wins = (l + 0.05) / 0.0605 >= 1.05 / (l + 0.05);
    if ink_wins {
        INK
    } else {
        WHITE
    }
}

/// WCAG relative luminance of an sRGB colour.
fn luminance(c: Rgba) -> f64 {
    let lin = |v: u8| match f64::from(v) / 255.0 {
        v if v <= 0.04045 => v / 12.92,
        v => ((v + 0.055) / 1.055).powf(2.4),
    };
    0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b)
}

/// FNV-1a: a fixed, platform-independent hash (std's hasher is randomly seeded per process).
fn fnv1a(bytes: &[u8]) -> u64 {
    let step = |hash: u64, b: &u8| (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_providers_have_fixed_colours() {
        assert_eq!(provider_colour("aws"), rgb(0xE69F00));
        assert_eq!(provider_colour("oracle"), rgb(0x882255));
        assert_eq!(provider_colour("AWS"), rgb(0xE69F00));
        assert_eq!(provider_colour("google"), provider_colour("gcp"));
        assert_ne!(provider_colour("aws"), provider_colour("azure"));
    }

    /// CIE L* of an sRGB colour.
    fn lightness(c: Rgba) -> f64 {
        match luminance(c) {
            y if y > 0.008856 => 116.0 * y.cbrt() - 16.0,
            y => 903.3 * y,
        }
    }

    #[test]
    fn stack_neighbours_differ_in_lightness() {
        for pair in KNOWN.windows(2) {
            let (a, b) = (rgb(pair[0].1), rgb(pair[1].1));
            let d = (lightness(a) - lightness(b)).abs();
            let (a, b) = (pair[0].0, pair[1].0);
            assert!(d >= 15.0, "{a} and {b}: L* differs by {d:.1}");
        }
        let (aws, oracle) = (provider_colour("aws"), provider_colour("oracle"));
        assert!((lightness(aws) - lightness(oracle)).abs() >= 30.0);
        for (name, hex) in KNOWN {
            assert_ne!(rgb(*hex), SPARE, "{name}");
            assert_ne!(rgb(*hex), UNSERVED, "{name}");
        }
    }

    #[test]
    fn stack_order_is_keyed_by_name() {
        let mut names = ["zeta", "onprem", "gcp", "acme", "Google-x", "aws", "azure"];
        names.sort_by_key(|n| provider_order(n));
        assert_eq!(names[..4], ["aws", "azure", "gcp", "onprem"]);
        assert_eq!(names[4..], ["acme", "Google-x", "zeta"]);
    }

    #[test]
    fn ramp_runs_dark_to_light_with_readable_text() {
        assert_eq!(ramp(0.0), rgb(0x440154));
        assert_eq!(ramp(100.0), rgb(0xFDE725));
        assert_eq!(text_on(ramp(0.0)), WHITE);
        assert_eq!(text_on(ramp(100.0)), INK);
    }

    #[test]
    fn unknown_providers_are_stable() {
        // The same colour in every run and process (no randomly seeded hash): pinned.
        assert_eq!(provider_colour("acme-gpu"), rgb(0x99DDFF));
        // Pinned so a change of hash (which would recolour every unknown provider) is deliberate.
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
    }
}
