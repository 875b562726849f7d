//! Loading stage, what-if flags: placeholder interface until the flag parser lands (same names).

/// What-if flags as given on the command line.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WhatIfFlags {
    pub demand_scale: Vec<String>,
    pub only: Vec<String>,
    pub exclude: Vec<String>,
    pub delay: Vec<String>,
    pub price: Vec<String>,
    pub outage: Vec<String>,
    pub set: Vec<String>,
}

impl WhatIfFlags {
    pub fn is_empty(&self) -> bool {
        *self == WhatIfFlags::default()
    }

    pub fn label(&self) -> String {
        String::new()
    }
}
