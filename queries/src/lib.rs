//! The lake catalog and the ad hoc SQL hunting layer (not built yet: see the hunting issue).
