//! Fan-out of findings to destinations (not built yet: see the alerting issue).
