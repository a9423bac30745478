//! Rendering an [`crate::Index`]: `INDEX.md` for agents and people, `INDEX.json` for programs.

pub mod index_json;
pub mod index_md;
pub mod llms_txt;

/// `1234567` → `"1,234,567"`.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Share of `total` saved by reading `part` instead, in percent with one decimal.
pub fn saved_percent(part: usize, total: usize) -> f64 {
    if total == 0 {
        return 0.0;
    }
    let saved = 100.0 * (1.0 - part as f64 / total as f64);
    (saved * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    #[test]
    fn thousands() {
        assert_eq!(super::thousands(0), "0");
        assert_eq!(super::thousands(999), "999");
        assert_eq!(super::thousands(1000), "1,000");
        assert_eq!(super::thousands(1234567), "1,234,567");
    }
}
