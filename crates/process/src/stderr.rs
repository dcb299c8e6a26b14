//! What a program writes to stderr, and its errors, kept bounded: the last [`STDERR_LINES`]
//! lines, each cut at [`STDERR_LINE`] bytes, read as bytes to the pipe's end by a thread of
//! their own and shown lossily; long messages cut and marked.

use std::collections::VecDeque;
use std::io::Read;
use std::process::ChildStderr;
use std::sync::{Arc, Mutex};

/// Lines of the child's stderr kept for error messages.
pub(crate) const STDERR_LINES: usize = 20;

/// The most bytes of one stderr line kept (the rest of the line is dropped, marked `…`).
pub(crate) const STDERR_LINE: usize = 1000;

/// The tail of a program's stderr, filled by a thread that reads the pipe to its end.
#[derive(Debug, Clone)]
pub(crate) struct StderrTail(Arc<Mutex<VecDeque<String>>>);

impl StderrTail {
    /// Starts reading `pipe`.
    pub(crate) fn start(pipe: ChildStderr) -> Self {
        let tail = Self(Arc::new(Mutex::new(VecDeque::new())));
        let keep = tail.clone();
        std::thread::spawn(move || keep_stderr(pipe, &keep.0));
        tail
    }

    /// The last lines, as the end of an error message (empty when there are none).
    pub(crate) fn text(&self) -> String {
        let k = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if k.is_empty() {
            return String::new();
        }
        let lines: Vec<String> = k.iter().map(|l| format!("  | {l}")).collect();
        format!("\n  its last lines of stderr:\n{}", lines.join("\n"))
    }
}

/// Keeps the last [`STDERR_LINES`] lines of `pipe` in `keep`, each cut at [`STDERR_LINE`]
/// bytes, reading to its end whatever it holds (bytes, not text: a program's stderr may be
/// anything, and a reader that stopped would leave the program blocked or killed by EPIPE).
fn keep_stderr(mut pipe: ChildStderr, keep: &Mutex<VecDeque<String>>) {
    let mut line: Vec<u8> = Vec::with_capacity(STDERR_LINE);
    let mut cut = false;
    let mut chunk = [0u8; 1 << 14];
    let push = |line: &mut Vec<u8>, cut: &mut bool| {
        let mut s = String::from_utf8_lossy(line).into_owned();
        if *cut {
            s.push('…');
        }
        let mut k = keep.lock().unwrap_or_else(|e| e.into_inner());
        if k.len() == STDERR_LINES {
            k.pop_front();
        }
        k.push_back(s);
        line.clear();
        *cut = false;
    };
    loop {
        let n = match pipe.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => break,
        };
        for &b in chunk.get(..n).unwrap_or_default() {
            if b == b'\n' {
                push(&mut line, &mut cut);
            } else if line.len() < STDERR_LINE {
                line.push(b);
            } else {
                cut = true;
            }
        }
    }
    if !line.is_empty() {
        push(&mut line, &mut cut);
    }
}

/// At most `max` characters of `s`, marked when cut.
pub(crate) fn cut_text(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.into();
    }
    let mut t: String = s.chars().take(max).collect();
    t.push_str(&format!("… ({} characters in all)", s.chars().count()));
    t
}

/// The last `lines` lines of `s`, at most `max` characters of them, marked when cut.
pub(crate) fn last_lines(s: &str, lines: usize, max: usize) -> String {
    let all: Vec<&str> = s.lines().collect();
    let from = all.len().saturating_sub(lines);
    let kept: Vec<String> =
        all.get(from..).unwrap_or_default().iter().map(|l| cut_text(l, max / 4)).collect();
    let mut t = kept.join("\n");
    let n = t.chars().count();
    if n > max {
        t = t.chars().skip(n - max).collect();
    }
    if from > 0 || n > max {
        format!("(… {from} lines before, cut)\n{t}")
    } else {
        t
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_texts_are_cut_and_say_so() {
        assert_eq!(cut_text("short", 10), "short");
        let long = "x".repeat(5000);
        let c = cut_text(&long, 100);
        assert!(c.starts_with(&"x".repeat(100)) && c.ends_with("(5000 characters in all)"), "{c}");
        let tb: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let t = last_lines(&tb, 3, 4000);
        assert!(t.ends_with("line 97\nline 98\nline 99") && t.contains("97 lines before"), "{t}");
        assert_eq!(last_lines("a\nb", 40, 4000), "a\nb");
    }
}
