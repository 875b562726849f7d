//! Chart stage: deck-ready PNG and SVG charts drawn from the report tables (never from the solver).
