//! `/_aloft/` endpoints: health, reset, clock, and per-service inspection.
