//! The census of a findings text: every number in it is accounted for, either recomputed by a
//! test from the committed results and found as written ([`Census::says`]) or allowed, with a
//! reason, as something no result file holds: a constant of the setup, a name, a date
//! ([`Census::allow`]). [`Census::finish`] fails on any number that is neither, on any claim
//! that is no longer in the text, and on any allowance that matches nothing.
//!
//! Texts are compared with every run of white space as one space, so a claim does not depend
//! on where the text wraps. A number is a run of digits with its thousands separators
//! (`469,000`), decimals, exponent (`1.5e-7`) and superscript (`10⁴`); digits that are part of
//! a name (`AVX2`, `x86-64`, `float32`, `fc1.weight`) are not numbers, and link targets are not
//! text.

use std::collections::BTreeMap;

/// One number of the text: where it is, and what accounts for it.
#[derive(Debug)]
struct Number {
    start: usize,
    end: usize,
    by: Option<String>,
}

/// A findings text and the account of its numbers.
pub struct Census {
    file: String,
    text: String,
    numbers: Vec<Number>,
    claims: usize,
    allowed: usize,
    unmatched: Vec<String>,
}

/// `s` with every run of white space as one space.
pub fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn is_superscript(c: char) -> bool {
    matches!(c, '⁰' | '¹' | '²' | '³' | '⁴' | '⁵' | '⁶' | '⁷' | '⁸' | '⁹')
}

/// `text` with each link target (`](…)`) replaced by spaces of the same length.
fn without_link_targets(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("](") {
        out.push_str(&rest[..i + 2]);
        rest = &rest[i + 2..];
        let end = rest.find(')').unwrap_or(rest.len());
        out.push_str(&" ".repeat(end));
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

/// The numbers of `text`, as byte ranges.
fn numbers(text: &str) -> Vec<(usize, usize)> {
    let t = without_link_targets(text);
    let b = t.as_bytes();
    let char_before = |i: usize| t[..i].chars().next_back();
    let mut out = vec![];
    let mut i = 0;
    while i < b.len() {
        if !b[i].is_ascii_digit() {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        loop {
            // Thousands: `,ddd` not followed by a digit.
            if i + 3 < b.len()
                && b[i] == b','
                && b[i + 1..i + 4].iter().all(u8::is_ascii_digit)
                && !b.get(i + 4).is_some_and(u8::is_ascii_digit)
            {
                i += 4;
                continue;
            }
            break;
        }
        if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
            i += 1;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
        if i + 1 < b.len() && b[i] == b'e' {
            let j = if b[i + 1] == b'-' || b[i + 1] == b'+' { i + 2 } else { i + 1 };
            if j < b.len() && b[j].is_ascii_digit() {
                i = j;
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
            }
        }
        while let Some(c) = t[i..].chars().next().filter(|&c| is_superscript(c)) {
            i += c.len_utf8();
        }
        // Part of a name: a letter or `_` touches it, or it follows a name's `-` or `.`.
        let before = char_before(start);
        let after = t[i..].chars().next();
        let letter = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
        let joined = matches!(before, Some('-' | '.'))
            && t[..start].chars().rev().nth(1).is_some_and(|c| c.is_ascii_alphanumeric());
        if letter(before) || letter(after) || joined {
            continue;
        }
        out.push((start, i));
    }
    out
}

impl Census {
    /// The census of `file` (its text `text`).
    pub fn new(file: &str, text: &str) -> Census {
        let text = squeeze(text);
        let numbers = numbers(&text)
            .into_iter()
            .map(|(start, end)| Number { start, end, by: None })
            .collect();
        Census { file: file.into(), text, numbers, claims: 0, allowed: 0, unmatched: vec![] }
    }

    /// Every occurrence of `needle` (squeezed) in the text, as byte offsets.
    fn find_all(&self, needle: &str) -> Vec<usize> {
        let mut at = vec![];
        let mut from = 0;
        while let Some(i) = self.text[from..].find(needle) {
            at.push(from + i);
            from += i + needle.len().max(1);
        }
        at
    }

    /// Marks the numbers whose digits lie within `start..end` as accounted for by `by`.
    fn mark(&mut self, start: usize, end: usize, by: &str) {
        for n in &mut self.numbers {
            if n.start >= start && n.end <= end {
                n.by.get_or_insert_with(|| by.to_string());
            }
        }
    }

    /// The text says `template` with each `{}` replaced by the next of `values`, which a test
    /// recomputed: the numbers inside the values are accounted for (numbers in the template's
    /// own words are not, and need their own claim or allowance).
    pub fn says(&mut self, template: &str, values: &[String]) {
        let template = squeeze(template);
        let parts: Vec<&str> = template.split("{}").collect();
        assert_eq!(parts.len(), values.len() + 1, "`{template}`: one value per {{}}");
        let mut whole = String::new();
        let mut spans = vec![];
        for (i, part) in parts.iter().enumerate() {
            whole.push_str(part);
            if let Some(v) = values.get(i) {
                let v = squeeze(v);
                spans.push((whole.len(), whole.len() + v.len()));
                whole.push_str(&v);
            }
        }
        self.claims += 1;
        let at = self.find_all(&whole);
        if at.is_empty() {
            self.unmatched.push(format!("says `{whole}`"));
        }
        for a in at {
            for &(s, e) in &spans {
                self.mark(a + s, a + e, "recomputed");
            }
        }
    }

    /// `snippet` holds numbers no committed result holds; `reason` says what they are. Every
    /// number in every occurrence of `snippet` is accounted for.
    pub fn allow(&mut self, snippet: &str, reason: &str) {
        let snippet = squeeze(snippet);
        self.allowed += 1;
        let at = self.find_all(&snippet);
        if at.is_empty() {
            self.unmatched.push(format!("allows `{snippet}` ({reason})"));
        }
        for a in at {
            self.mark(a, a + snippet.len(), reason);
        }
    }

    /// Fails unless every number is accounted for and every claim and allowance matched;
    /// returns how many numbers were recomputed and how many allowed.
    pub fn finish(&self) -> (usize, usize) {
        let missing: Vec<String> = self
            .numbers
            .iter()
            .filter(|n| n.by.is_none())
            .map(|n| {
                let lo = self.text[..n.start].char_indices().rev().nth(40).map_or(0, |(i, _)| i);
                let hi = self.text[n.end..]
                    .char_indices()
                    .nth(40)
                    .map_or(self.text.len(), |(i, _)| n.end + i);
                format!(
                    "`{}` in …{}[{}]{}…",
                    &self.text[n.start..n.end],
                    &self.text[lo..n.start],
                    &self.text[n.start..n.end],
                    &self.text[n.end..hi]
                )
            })
            .collect();
        assert!(
            missing.is_empty() && self.unmatched.is_empty(),
            "{}: {} of {} numbers neither recomputed nor allowed:\n{}\n\nclaims or allowances \
             not in the text:\n{}",
            self.file,
            missing.len(),
            self.numbers.len(),
            missing.join("\n"),
            self.unmatched.join("\n")
        );
        let mut by: BTreeMap<bool, usize> = BTreeMap::new();
        for n in &self.numbers {
            *by.entry(n.by.as_deref() == Some("recomputed")).or_default() += 1;
        }
        (by.get(&true).copied().unwrap_or(0), by.get(&false).copied().unwrap_or(0))
    }

    /// How many claims and allowances were made.
    pub fn counts(&self) -> (usize, usize) {
        (self.claims, self.allowed)
    }
}

/// `x` with `decimals` decimals and its sign always written, minus as `−` (U+2212), as the
/// findings write differences.
pub fn signed(x: f64, decimals: usize) -> String {
    let s = format!("{x:+.decimals$}");
    s.replacen('-', "−", 1)
}

/// `x` with `decimals` decimals, minus as `−`.
pub fn fixed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}").replacen('-', "−", 1)
}

/// `n` with thousands separators: `12,345`.
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[test]
fn numbers_are_found_and_names_are_not() {
    let t = "AVX2 and x86-64 at 469,000 updates, 1.5e-7, 10⁴, 85.57%, (0, 1] and fc1.weight \
             [link](a/b1.png) 2^29 −0.8";
    let got: Vec<&str> = numbers(t).into_iter().map(|(s, e)| &t[s..e]).collect();
    assert_eq!(got, ["469,000", "1.5e-7", "10⁴", "85.57", "0", "1", "2", "29", "0.8"]);
    let mut c = Census::new("t", "a 1.5 b\n  2 and 3, 4");
    c.says("a {} b 2", &["1.5".into()]);
    c.allow("3, 4", "constants");
    let missing = std::panic::catch_unwind(|| c.finish()).unwrap_err();
    let msg = missing.downcast_ref::<String>().unwrap();
    assert!(msg.contains("1 of 4 numbers") && msg.contains("`2`"), "{msg}");
}
