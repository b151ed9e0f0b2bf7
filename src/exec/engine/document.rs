//! Where the records of a JSON fleet document are, found without parsing
//! them, so that a document streams in blocks and its records are parsed in
//! parallel, like JSON Lines.
//!
//! A [`Splitter`] reads the document's frame — `[`, or `{"hosts": [`, the
//! commas between records, the closing `]` (and `}`) — and, for each record,
//! finds the `}` that closes it: it skips strings (with their escapes) and
//! counts braces and brackets, 64 bytes at a time through bit masks (see
//! [`Inside::chunk`]). It also notes how deep each record nests, and
//! refuses one that serde_json would find too deep inside the document.
//!
//! The splitter never decides that a document is valid; it only finds where
//! records would be. Each record is parsed on its own by serde_json, which
//! accepts exactly what it accepts inside the array (a JSON value does not
//! depend on what surrounds it, except for serde_json's limit on nesting,
//! which the splitter checks), and the frame is checked here byte by byte.
//! Anything else — a record that is not an object, a trailing comma, a
//! wrapper with other keys, text after the end, a truncated document — is
//! [`Refused`], and the caller hands the whole document to the exact reader,
//! which either reads it or words the error.

use std::ops::Range;

/// Where the scan stands in the frame, between records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Frame {
    /// Before the document: `[` or `{"hosts": [` expected.
    Start,
    /// After the opening `[`: a record or `]`.
    Open,
    /// After a record: `,` or `]`.
    AfterRecord,
    /// After a comma: a record.
    AfterComma,
    /// After the closing `]`: `}` when wrapped, else only whitespace.
    Closed,
    /// After the wrapper's `}`: only whitespace.
    Done,
}

/// The document is not one the splitter can cut; the exact reader decides.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Refused;

/// The records found in one buffer.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Scan {
    /// Each record's bytes, from its `{` to its `}` included.
    pub(crate) records: Vec<Range<usize>>,
    /// How much of the buffer is done with; the rest (a record not yet
    /// complete) starts the next buffer.
    pub(crate) consumed: usize,
}

/// Cuts a JSON fleet document into records, a buffer at a time.
#[derive(Debug, Clone)]
pub(crate) struct Splitter {
    frame: Frame,
    wrapped: bool,
    /// A record the last buffer ended in: the state at that end and how
    /// many of its bytes were followed, so that the next buffer (which
    /// starts with the record) resumes there instead of starting over.
    partial: Option<(Inside, usize)>,
}

impl Default for Splitter {
    fn default() -> Self {
        Splitter {
            frame: Frame::Start,
            wrapped: false,
            partial: None,
        }
    }
}

/// The most arrays and objects serde_json lets be open at once (its
/// recursion limit; the exact reader's too). A record is parsed on its
/// own, where it is that much less deep than in the document: the
/// splitter refuses a record that would be too deep there.
const MAX_DEPTH: usize = 127;

/// JSON's whitespace (not `is_ascii_whitespace`, which takes form feeds).
fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

fn skip_space(buf: &[u8], mut pos: usize) -> usize {
    while buf.get(pos).is_some_and(|b| is_space(*b)) {
        pos += 1;
    }
    pos
}

/// What the wrapper's opening looks like after `{`: `"hosts"`, `:`, `[`,
/// with whitespace between. `Ok(Some(end))` when it is there, `Ok(None)`
/// when the buffer ends first.
fn wrapper_open(buf: &[u8], pos: usize) -> Result<Option<usize>, Refused> {
    let mut at = skip_space(buf, pos);
    for token in [&b"\"hosts\""[..], b":", b"["] {
        let Some(rest) = buf.get(at..) else {
            return Ok(None);
        };
        if rest.len() < token.len() {
            return if token.starts_with(rest) {
                Ok(None)
            } else {
                Err(Refused)
            };
        }
        if !rest.starts_with(token) {
            return Err(Refused);
        }
        at = skip_space(buf, at + token.len());
    }
    Ok(Some(at))
}

/// The eight flags of a word, one bit per byte (bit `j` for byte `j`), set
/// where the byte is zero: an exact zero-byte test (no false positives
/// from borrows), then the eight high bits gathered by one multiplication
/// (bit `8j` lands on bit `56 + j`, without carries).
fn zero_flags(x: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let zero = !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7);
    ((zero >> 7).wrapping_mul(0x0102_0408_1020_4080)) >> 56
}

/// Where the bytes that matter are in 64 bytes: bit `i` set where
/// `chunk[i]` is that byte (`open`: `{` or `[`; `close`: `}` or `]`).
#[derive(Debug, Default, PartialEq, Eq)]
struct Masks {
    quote: u64,
    open: u64,
    close: u64,
    backslash: u64,
}

/// [`Masks`] of a chunk, eight bytes at a time (SWAR), each word read
/// once: about four times faster than a byte loop.
fn masks(chunk: &[u8; 64]) -> Masks {
    const ONES: u64 = 0x0101_0101_0101_0101;
    let mut m = Masks::default();
    for (k, word) in chunk.chunks_exact(8).enumerate() {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let w = u64::from_le_bytes(bytes);
        let at = 8 * k;
        m.quote |= zero_flags(w ^ (ONES * u64::from(b'"'))) << at;
        // `[` and `{` (`]` and `}`) differ only in bit 0x20: setting it
        // finds both with one test, and no other byte becomes `{` (`}`).
        let folded = w | (ONES * 0x20);
        m.open |= zero_flags(folded ^ (ONES * u64::from(b'{'))) << at;
        m.close |= zero_flags(folded ^ (ONES * u64::from(b'}'))) << at;
        m.backslash |= zero_flags(w ^ (ONES * u64::from(b'\\'))) << at;
    }
    m
}

/// Bit `i` set where an odd number of bits at or below `i` are set in `x`:
/// the bytes inside a string, from its opening quote to the byte before
/// its closing one, when `x` marks the quotes.
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The scan inside a record: whether it is inside a string, after a
/// backslash there, how deep in braces and brackets, and how deep it has
/// been.
#[derive(Debug, Clone, Default)]
struct Inside {
    string: bool,
    escaped: bool,
    depth: usize,
    deepest: usize,
}

impl Inside {
    /// Follows one byte; `true` when it closes the record.
    fn step(&mut self, byte: u8) -> bool {
        if self.string {
            if self.escaped {
                self.escaped = false;
            } else if byte == b'\\' {
                self.escaped = true;
            } else if byte == b'"' {
                self.string = false;
            }
            return false;
        }
        match byte {
            b'"' => self.string = true,
            b'{' | b'[' => self.open(),
            b'}' | b']' => return self.close(),
            _ => {}
        }
        false
    }

    fn open(&mut self) {
        self.depth += 1;
        self.deepest = self.deepest.max(self.depth);
    }

    /// `true` when this closes the record.
    fn close(&mut self) -> bool {
        self.depth = self.depth.saturating_sub(1);
        self.depth == 0
    }

    /// Follows 64 bytes without a backslash, given their masks (the way
    /// simdjson finds structure, without SIMD): quotes give the string
    /// spans by a prefix XOR, braces and brackets outside them are
    /// counted. The offset in the chunk just after the record's closing
    /// brace, if it is there.
    fn chunk(&mut self, m: &Masks) -> Option<usize> {
        let mut strings = prefix_xor(m.quote);
        if self.string {
            strings = !strings;
        }
        self.string = strings >> 63 == 1;
        let open = m.open & !strings;
        let close = m.close & !strings;
        let mut braces = open | close;
        while braces != 0 {
            let at = braces.trailing_zeros();
            let bit = 1u64 << at;
            if open & bit != 0 {
                self.open();
            } else if self.close() {
                return Some(at as usize + 1);
            }
            braces &= braces - 1;
        }
        None
    }
}

/// The position just after the `}` that closes the object being followed
/// by `inside`, scanning from `from`; `None` when the buffer ends first
/// (then `inside` holds the state at its end, to resume from there).
fn record_end(buf: &[u8], from: usize, inside: &mut Inside) -> Option<usize> {
    let mut pos = from;
    let rest = buf.get(from..)?;
    let mut chunks = rest.chunks_exact(64);
    for chunk in chunks.by_ref() {
        let whole: &[u8; 64] = chunk.try_into().ok()?;
        let m = masks(whole);
        let end = if inside.escaped || m.backslash != 0 {
            // Escapes are rare in fleets: byte by byte.
            whole.iter().position(|b| inside.step(*b)).map(|i| i + 1)
        } else {
            inside.chunk(&m)
        };
        if let Some(end) = end {
            return Some(pos + end);
        }
        pos += 64;
    }
    let tail = chunks.remainder();
    tail.iter()
        .position(|b| inside.step(*b))
        .map(|i| pos + i + 1)
}

impl Splitter {
    /// How many arrays and objects hold each record: `[`, or `{` and `[`.
    fn outer(&self) -> usize {
        if self.wrapped {
            2
        } else {
            1
        }
    }

    /// Whether the document is `{"hosts": [...]}` (known once its start
    /// is scanned).
    pub(crate) fn is_wrapped(&self) -> bool {
        self.wrapped
    }

    /// Finds the records in `buf`, which continues the text the previous
    /// call left unconsumed. `at_end` says no text follows `buf`; then the
    /// document must be complete.
    pub(crate) fn scan(&mut self, buf: &[u8], at_end: bool) -> Result<Scan, Refused> {
        let mut scan = Scan::default();
        let mut pos = 0usize;
        loop {
            pos = skip_space(buf, pos);
            let Some(&byte) = buf.get(pos) else {
                break;
            };
            match (self.frame, byte) {
                (Frame::Start, b'[') => {
                    self.frame = Frame::Open;
                    pos += 1;
                }
                (Frame::Start, b'{') => match wrapper_open(buf, pos + 1)? {
                    Some(end) => {
                        self.wrapped = true;
                        self.frame = Frame::Open;
                        pos = end;
                    }
                    None => break,
                },
                (Frame::Open | Frame::AfterComma, b'{') => {
                    let (mut inside, done) = self.partial.take().unwrap_or_default();
                    match record_end(buf, pos + done, &mut inside) {
                        // Deeper than serde_json lets it be inside the
                        // document (though not alone): the exact reader
                        // says so.
                        Some(_) if inside.deepest + self.outer() > MAX_DEPTH => {
                            return Err(Refused)
                        }
                        Some(end) => {
                            scan.records.push(pos..end);
                            self.frame = Frame::AfterRecord;
                            pos = end;
                        }
                        None => {
                            self.partial = Some((inside, buf.len() - pos));
                            break;
                        }
                    }
                }
                (Frame::Open | Frame::AfterRecord, b']') => {
                    self.frame = Frame::Closed;
                    pos += 1;
                }
                (Frame::AfterRecord, b',') => {
                    self.frame = Frame::AfterComma;
                    pos += 1;
                }
                (Frame::Closed, b'}') if self.wrapped => {
                    self.frame = Frame::Done;
                    pos += 1;
                }
                _ => return Err(Refused),
            }
        }
        let complete = match self.frame {
            Frame::Closed => !self.wrapped,
            Frame::Done => true,
            _ => false,
        };
        if at_end && (!complete || pos < buf.len()) {
            return Err(Refused);
        }
        scan.consumed = pos;
        Ok(scan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The records of `text`, scanned whole.
    fn records(text: &str) -> Result<Vec<&str>, Refused> {
        let scan = Splitter::default().scan(text.as_bytes(), true)?;
        Ok(scan.records.into_iter().map(|r| &text[r]).collect())
    }

    /// The records of `text`, fed `step` bytes at a time the way the
    /// loader feeds blocks (the unconsumed rest carried over).
    fn records_in_steps(text: &str, step: usize) -> Result<Vec<String>, Refused> {
        let mut splitter = Splitter::default();
        let mut out = Vec::new();
        let mut buf: Vec<u8> = Vec::new();
        let mut fed = 0;
        loop {
            let next = (fed + step).min(text.len());
            buf.extend_from_slice(&text.as_bytes()[fed..next]);
            fed = next;
            let at_end = fed == text.len();
            let scan = splitter.scan(&buf, at_end)?;
            for r in scan.records {
                out.push(String::from_utf8(buf[r].to_vec()).unwrap());
            }
            buf.drain(..scan.consumed);
            if at_end {
                return Ok(out);
            }
        }
    }

    #[test]
    fn finds_each_record_of_an_array_and_of_a_wrapper() {
        let text = r#" [ {"name":"a","facts":{"x":{"y":"}"}}} ,
            {"name":"b\"{","roles":["[{"]}]"#;
        assert_eq!(
            records(text).unwrap(),
            [
                r#"{"name":"a","facts":{"x":{"y":"}"}}}"#,
                r#"{"name":"b\"{","roles":["[{"]}"#
            ]
        );
        let wrapped = "{ \"hosts\" :\n[{\"name\":\"a\"}]\n}\n";
        assert_eq!(records(wrapped).unwrap(), [r#"{"name":"a"}"#]);
        assert_eq!(records("[]").unwrap(), Vec::<&str>::new());
        assert_eq!(records("{\"hosts\":[]}").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn escapes_inside_strings_do_not_end_them() {
        let text = r#"[{"name":"a\\","tags":{"k":"\\\"}"}}]"#;
        assert_eq!(
            records(text).unwrap(),
            [r#"{"name":"a\\","tags":{"k":"\\\"}"}}"#]
        );
    }

    #[test]
    fn refuses_what_it_cannot_cut() {
        for text in [
            "",
            "   ",
            "[",
            "[{\"name\":\"a\"}",
            "[{\"name\":\"a\"},]",
            "[,{\"name\":\"a\"}]",
            "[{\"name\":\"a\"} {\"name\":\"b\"}]",
            "[{\"name\":\"a\"}] x",
            "[{\"name\":\"a\"}]]",
            "[\"a\"]",
            "[[\"a\"]]",
            "{\"hosts\":[]",
            "{\"hosts\":[]}}",
            "{\"hosts\":[],\"x\":1}",
            "{\"other\":[]}",
            "{\"hosts\":{}}",
            "{\"name\":\"a\"}",
            "[{\"name\":\"a\"}]\u{c}",
            "[{\"name\":\"unterminated}]",
        ] {
            assert_eq!(records(text), Err(Refused), "{text:?}");
        }
    }

    /// `record_end` byte by byte, the plain way.
    fn record_end_slowly(buf: &[u8], start: usize) -> Option<usize> {
        let mut inside = Inside::default();
        buf[start..]
            .iter()
            .position(|b| inside.step(*b))
            .map(|i| start + i + 1)
    }

    /// Bit `i` set where `chunk[i] == byte`, byte by byte.
    fn mask_slowly(chunk: &[u8; 64], byte: u8) -> u64 {
        chunk
            .iter()
            .enumerate()
            .fold(0u64, |m, (i, b)| m | (u64::from(*b == byte) << i))
    }

    #[test]
    fn masks_mark_exactly_their_bytes_at_the_edges() {
        let mut chunk = [b'"'; 64];
        chunk[1] = b'{';
        chunk[62] = b'}';
        chunk[63] = b'\\';
        let m = masks(&chunk);
        assert_eq!(m.quote, !((1 << 1) | (1 << 62) | (1 << 63)));
        assert_eq!((m.open, m.close, m.backslash), (1 << 1, 1 << 62, 1 << 63));
        assert_eq!(masks(&[0; 64]), Masks::default());
        assert_eq!(masks(&[0xFF; 64]), Masks::default());
    }

    proptest::proptest! {
        #[test]
        fn masks_mark_exactly_their_bytes(
            bytes in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(&b"{}[]\"\\"[..]),
                    proptest::num::u8::ANY,
                ],
                64,
            )
        ) {
            let chunk: [u8; 64] = bytes.try_into().unwrap();
            let m = masks(&chunk);
            proptest::prop_assert_eq!(m.quote, mask_slowly(&chunk, b'"'));
            proptest::prop_assert_eq!(m.open, mask_slowly(&chunk, b'{') | mask_slowly(&chunk, b'['));
            proptest::prop_assert_eq!(m.close, mask_slowly(&chunk, b'}') | mask_slowly(&chunk, b']'));
            proptest::prop_assert_eq!(m.backslash, mask_slowly(&chunk, b'\\'));
        }

        /// Bodies with escapes (mostly followed byte by byte) and
        /// without (mostly followed by masks).
        #[test]
        fn masks_find_the_ends_that_bytes_find(
            body in proptest::prop_oneof![
                proptest::collection::vec(
                    proptest::sample::select(&b"{}\"\\a ,[]"[..]), 0..400),
                proptest::collection::vec(
                    proptest::sample::select(&b"{{}}\"aaaa ,[]"[..]), 0..1000),
            ]
        ) {
            let mut buf = vec![b'{'];
            buf.extend_from_slice(&body);
            proptest::prop_assert_eq!(
                record_end(&buf, 0, &mut Inside::default()),
                record_end_slowly(&buf, 0)
            );
        }
    }

    #[test]
    fn every_block_size_finds_the_same_records() {
        let text = concat!(
            "{\"hosts\": [\n",
            "  {\"name\": \"web-1\", \"facts\": {\"os\": {\"name\": \"x\\\"}\"}}},\n",
            "  {\"name\": \"web-2\", \"roles\": [\"a\", \"{\"]},\n",
            "  {\"name\": \"db-1\"}\n",
            "]}\n"
        );
        let whole: Vec<String> = records(text)
            .unwrap()
            .into_iter()
            .map(str::to_string)
            .collect();
        assert_eq!(whole.len(), 3);
        for step in 1..=text.len() {
            assert_eq!(records_in_steps(text, step).unwrap(), whole, "step {step}");
        }
        for step in [1, 2, 3, 7] {
            assert_eq!(
                records_in_steps("[{\"name\":\"a\"},]", step),
                Err(Refused),
                "step {step}"
            );
        }
    }
}
