//! Reading fleet files straight into the index (placeholder while built).
