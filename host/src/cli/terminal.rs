//! Text for a person's terminal. The code's output may hold escape sequences that would move the
//! cursor, rewrite or clear the screen, set the window title or make the terminal answer back;
//! shown on a terminal they are made visible (`\x1b`) instead of being interpreted.

/// Neutralises a byte stream for a terminal, chunk by chunk: keeps `\n`, `\t` and `\r` (line
/// breaks, tabs, progress lines that rewrite themselves), shows other C0 controls and DEL as
/// `\xNN`, C1 controls as `\u{NN}`, and bytes that are not UTF-8 as `\xNN`. A character split
/// between two chunks is kept whole.
#[derive(Debug, Default)]
pub struct Neutraliser {
    /// The start of a UTF-8 sequence that the next chunk completes.
    pending: Vec<u8>,
}

impl Neutraliser {
    /// The printable form of `bytes`, after what earlier chunks left pending.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        let mut input = std::mem::take(&mut self.pending);
        input.extend_from_slice(bytes);
        let mut out = String::with_capacity(input.len());
        let mut rest = input.as_slice();
        loop {
            match std::str::from_utf8(rest) {
                Ok(text) => {
                    escape_into(text, true, &mut out);
                    break;
                }
                Err(e) => {
                    let (valid, after) = rest.split_at(e.valid_up_to());
                    // `valid_up_to` marks a valid prefix, so this never falls back to "".
                    escape_into(
                        std::str::from_utf8(valid).unwrap_or_default(),
                        true,
                        &mut out,
                    );
                    match e.error_len() {
                        // Incomplete at the end: wait for the next chunk.
                        None => {
                            self.pending = after.to_vec();
                            break;
                        }
                        Some(n) => {
                            for b in &after[..n] {
                                out.push_str(&format!("\\x{b:02x}"));
                            }
                            rest = &after[n..];
                        }
                    }
                }
            }
        }
        out
    }

    /// What is still pending at the end of the stream, shown as bytes.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.pending)
            .iter()
            .map(|b| format!("\\x{b:02x}"))
            .collect()
    }
}

/// `text` as one line for nestbox's own messages, which may quote the code's data (file names,
/// output): every control character is made visible, line breaks included.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    escape_into(text, false, &mut out);
    out
}

fn escape_into(text: &str, keep_layout: bool, out: &mut String) {
    for c in text.chars() {
        match c {
            '\n' | '\t' | '\r' if keep_layout => out.push(c),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x80 && c.is_control() => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if c.is_control() => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_made_visible_and_layout_kept() {
        let mut n = Neutraliser::default();
        assert_eq!(
            n.push(b"\x1b[2J\x1b]0;pwned\x07ok\r\n\tx\x7f\x08"),
            "\\x1b[2J\\x1b]0;pwned\\x07ok\r\n\tx\\x7f\\x08"
        );
        // A C1 CSI (U+009B) split between chunks, then a bad byte, then a split 'é'.
        assert_eq!(n.push(b"a\xc2"), "a");
        assert_eq!(n.push(b"\x9b31m\xff"), "\\u{9b}31m\\xff");
        assert_eq!(n.push(b"caf\xc3"), "caf");
        assert_eq!(n.push(b"\xa9"), "é");
        assert_eq!(n.push(b"\xe2\x82"), "");
        assert_eq!(n.finish(), "\\xe2\\x82");
    }

    #[test]
    fn one_line_escapes_line_breaks_too() {
        assert_eq!(one_line("a\nb\r\x1b[1A\u{9b}é"), "a\\nb\\r\\x1b[1A\\u{9b}é");
    }
}
