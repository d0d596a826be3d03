//! Indices into a platform's classes and tiers.

/// Index of a tier in [`crate::PlatformConfig::tiers`] (declaration order).
pub type TierId = u16;
/// Index of a class in [`crate::PlatformConfig::classes`].
pub type ClassId = u16;
