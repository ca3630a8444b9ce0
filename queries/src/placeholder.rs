//! `${name}` placeholders in SQL text (hunt parameters, rule parameters and window bounds).

/// Every `${name}` in `sql`: its start, its end (exclusive) and the name.
pub fn placeholders(sql: &str) -> impl Iterator<Item = (usize, usize, &str)> {
    let mut rest = 0;
    std::iter::from_fn(move || {
        let start = rest + sql[rest..].find("${")?;
        let end = start + sql[start..].find('}')?;
        rest = end + 1;
        Some((start, end + 1, &sql[start + 2..end]))
    })
}
