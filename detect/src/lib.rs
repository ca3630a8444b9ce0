//! The SQL detection layer: rules, engine, findings (not built yet: see the detect issue).
