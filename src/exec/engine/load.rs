//! How a fleet file streams into the index: read in blocks, cut into
//! records, records parsed in parallel pieces, pieces assembled in file
//! order.
//!
//! JSON Lines are cut at line ends; a JSON document (an array of hosts, or
//! `{"hosts": [...]}`) is cut between its records by `document::Splitter`.
//! Either way a block is parsed (in pieces, on every core with the
//! `parallel` feature) while the previous block's pieces are assembled, and
//! the text is never wholly in memory. Pieces are assembled in file order,
//! so ids, values and errors do not depend on where blocks or pieces are
//! cut.
//!
//! Another tool's inventory (Ansible, EC2, PuppetDB) is read whole and
//! converted first; so is a document whose first block does not show that
//! it is fleetscope's own (its first record is larger than a block).

use std::io::Read;
use std::ops::Range;
use std::path::Path as FsPath;

use crate::fleet::inventory::{detect, FleetFormat};
use crate::fleet::{is_json_lines, Fleet, FleetError};

use super::build::Assembler;
use super::document::{Refused, Splitter};
use super::index::IndexedFleet;
use super::ingest::{read_lines, read_records, Piece, Stop};
use super::par::{join, threads};

/// How far a load has come, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Bytes of the file read and parsed so far.
    pub done: u64,
    /// Bytes in the file.
    pub total: u64,
}

impl IndexedFleet {
    /// Reads a fleet file straight into an index: JSON Lines when the name
    /// ends in `.jsonl` or `.ndjson`, otherwise a JSON array of hosts or
    /// `{"hosts": [...]}` — the files [`Fleet::load`] reads, with the same
    /// errors, word for word — or another tool's inventory
    /// ([`FleetFormat`]), detected from its shape.
    ///
    /// Cost: one pass over the file, no `Host` built. The file is read in
    /// blocks of 16 MiB, each cut into records and parsed in parallel with
    /// the `parallel` feature, so it is never wholly in memory. Other
    /// tools' inventories are read whole and converted. See
    /// `docs/ingest.md` for the memory a host costs.
    pub fn load(path: impl AsRef<FsPath>) -> Result<IndexedFleet, FleetError> {
        load(path.as_ref(), None, &|_| {})
    }

    /// [`IndexedFleet::load`], calling `progress` as each block is done.
    pub fn load_with(
        path: impl AsRef<FsPath>,
        progress: &dyn Fn(Progress),
    ) -> Result<IndexedFleet, FleetError> {
        load(path.as_ref(), None, progress)
    }

    /// [`IndexedFleet::load_with`] in a given format rather than the one
    /// detected ([`Fleet::load_with`] for a plain [`Fleet`]). Fleetscope
    /// files stream into the index; other tools' inventories are read whole
    /// and converted first.
    pub fn load_as(
        path: impl AsRef<FsPath>,
        format: FleetFormat,
        progress: &dyn Fn(Progress),
    ) -> Result<IndexedFleet, FleetError> {
        load(path.as_ref(), Some(format), progress)
    }

    /// Parses a JSON array of hosts, or `{"hosts": [...]}`, straight into
    /// an index, its records in parallel pieces with the `parallel`
    /// feature; accepts and rejects exactly what [`Fleet::from_json`]
    /// does, with the same errors.
    pub fn from_json(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
        from_json(bytes)
    }

    /// Parses JSON Lines straight into an index, in parallel pieces with
    /// the `parallel` feature; accepts and rejects exactly what
    /// [`Fleet::from_json_lines`] does, with the same errors.
    pub fn from_json_lines(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
        let pieces = if bytes.len() < (1 << 20) {
            1
        } else {
            threads() * 4
        };
        lines_in_pieces(&cut_lines(bytes, pieces))
    }

    /// [`IndexedFleet::from_json_lines`] with the text cut at these byte
    /// offsets (each just after a line end; others are moved there), for
    /// tests that the cut changes nothing.
    #[doc(hidden)]
    pub fn from_json_lines_cut_at(
        bytes: &[u8],
        cuts: &[usize],
    ) -> Result<IndexedFleet, FleetError> {
        let fixed: Vec<usize> = cuts
            .iter()
            .map(
                |c| match bytes.get(..*c).and_then(|b| memchr::memrchr(b'\n', b)) {
                    Some(i) => i + 1,
                    None => 0,
                },
            )
            .collect();
        lines_in_pieces(&split_at_lines(bytes, &fixed))
    }

    /// A fleetscope JSON document streamed in blocks of `block` bytes, as
    /// [`IndexedFleet::load`] streams a file, for tests that block
    /// boundaries change nothing.
    #[doc(hidden)]
    pub fn from_json_in_blocks(bytes: &[u8], block: usize) -> Result<IndexedFleet, FleetError> {
        match stream_in_blocks(bytes, block) {
            Ok(fleet) => Ok(fleet),
            Err(Stop::Error(e)) => Err(e),
            Err(Stop::Refused) => Fleet::from_json(bytes).map(IndexedFleet::new),
        }
    }

    /// Whether streaming `bytes` in blocks of `block` bytes hands the
    /// document to the exact reader (for tests that valid documents of
    /// plain records stream without it).
    #[doc(hidden)]
    pub fn json_in_blocks_needs_exact_reader(bytes: &[u8], block: usize) -> bool {
        matches!(stream_in_blocks(bytes, block), Err(Stop::Refused))
    }
}

fn stream_in_blocks(bytes: &[u8], block: usize) -> Result<IndexedFleet, Stop> {
    let mut input = Input {
        reader: bytes,
        block: block.max(1),
        done: 0,
        total: bytes.len() as u64,
        progress: &|_| {},
    };
    stream(
        &mut input,
        Vec::new(),
        Framing::Document(Splitter::default()),
    )
}

/// Bytes read from a file at a time.
const BLOCK: usize = 16 << 20;

/// A file being read in blocks, with its progress.
struct Input<'p, R> {
    reader: R,
    block: usize,
    done: u64,
    total: u64,
    progress: &'p dyn Fn(Progress),
}

/// Appends up to `block` bytes of `reader` to `buf`; `true` when the file
/// has ended.
fn fill(reader: &mut impl Read, block: usize, buf: &mut Vec<u8>) -> std::io::Result<bool> {
    let keep = buf.len();
    buf.resize(keep + block, 0);
    let mut filled = keep;
    while filled < buf.len() {
        match reader.read(buf.get_mut(filled..).unwrap_or_default()) {
            Ok(0) => break,
            Ok(n) => filled += n,
            // A signal, not an error: read again (as `std::fs::read` does).
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => {
                buf.truncate(filled);
                return Err(e);
            }
        }
    }
    buf.truncate(filled);
    Ok(filled < keep + block)
}

impl<R: Read> Input<'_, R> {
    /// Appends up to a block to `buf`; `true` when the file has ended.
    fn fill(&mut self, buf: &mut Vec<u8>) -> std::io::Result<bool> {
        fill(&mut self.reader, self.block, buf)
    }

    /// Reports `bytes` more of the file as done.
    fn advance(&mut self, bytes: usize) {
        self.done += bytes as u64;
        (self.progress)(Progress {
            done: self.done.min(self.total),
            total: self.total,
        });
    }

    /// Reads the rest of the file after `buf`.
    fn rest(&mut self, mut buf: Vec<u8>) -> std::io::Result<Vec<u8>> {
        while !self.fill(&mut buf)? {}
        self.advance(buf.len());
        Ok(buf)
    }
}

/// How a text is cut into records.
enum Framing {
    /// One record per line; the first `clean` bytes of the buffer are
    /// known to hold no line end (a line longer than a block is searched
    /// once, not again with every block added).
    Lines { clean: usize },
    /// Records of a JSON document.
    Document(Splitter),
}

/// Where a block's whole records are: they end at `end` (the rest is
/// carried over to the next block); `spans` are runs of whole lines
/// (JSON Lines) or single records (a document).
struct Cut {
    end: usize,
    spans: Vec<Range<usize>>,
    lines: bool,
}

/// Records to read on one thread.
enum Chunk<'b> {
    Lines(&'b [u8]),
    Records(Vec<&'b [u8]>),
}

impl Chunk<'_> {
    fn read(&self) -> Piece {
        match self {
            Chunk::Lines(bytes) => read_lines(bytes),
            Chunk::Records(records) => read_records(records),
        }
    }
}

impl Framing {
    /// Where the whole records of `buf` are, in about `pieces` runs of
    /// lines. With `at_end`, all of `buf` must be whole records.
    fn cut(&mut self, buf: &[u8], at_end: bool, pieces: usize) -> Result<Cut, Stop> {
        match self {
            Framing::Lines { clean } => {
                let end = if at_end {
                    buf.len()
                } else {
                    buf.get(*clean..)
                        .and_then(|b| memchr::memrchr(b'\n', b))
                        .map_or(0, |i| *clean + i + 1)
                };
                // What follows `end` has no line end, and starts the next
                // buffer.
                *clean = buf.len() - end;
                let whole = buf.get(..end).unwrap_or_default();
                let mut spans = Vec::new();
                let mut start = 0;
                if !whole.is_empty() {
                    for piece in cut_lines(whole, pieces) {
                        spans.push(start..start + piece.len());
                        start += piece.len();
                    }
                }
                Ok(Cut {
                    end,
                    spans,
                    lines: true,
                })
            }
            Framing::Document(splitter) => {
                let scan = splitter
                    .scan(buf, at_end)
                    .map_err(|Refused| Stop::Refused)?;
                Ok(Cut {
                    end: scan.consumed,
                    spans: scan.records,
                    lines: false,
                })
            }
        }
    }
}

impl Cut {
    /// The records of `buf` in about `pieces` chunks, one per task.
    fn chunks<'b>(&self, buf: &'b [u8], pieces: usize) -> Vec<Chunk<'b>> {
        let text = |r: &Range<usize>| buf.get(r.clone()).unwrap_or_default();
        if self.lines {
            return self.spans.iter().map(|r| Chunk::Lines(text(r))).collect();
        }
        let per = self.spans.len().div_ceil(pieces.max(1)).max(1);
        self.spans
            .chunks(per)
            .map(|c| Chunk::Records(c.iter().map(text).collect()))
            .collect()
    }
}

/// Pieces assembled in file order; stops at the first that stopped.
struct Load {
    all: Assembler,
    lines: usize,
}

impl Load {
    fn new() -> Self {
        Load {
            all: Assembler::with_capacity(0),
            lines: 0,
        }
    }

    /// Adds pieces already read, in order.
    fn assemble(&mut self, read: Vec<Piece>) -> Result<(), Stop> {
        for piece in read {
            let (records, lines) = (self.all.len(), self.lines);
            match piece.stop {
                Some(Stop::Error(mut e)) => {
                    if let FleetError::Malformed { record, line, .. } = &mut e {
                        *record = record.map(|r| r + records);
                        *line += lines;
                    }
                    return Err(Stop::Error(e));
                }
                Some(Stop::Refused) => return Err(Stop::Refused),
                None => {}
            }
            self.lines += piece.lines;
            self.all.absorb(piece.part);
        }
        Ok(())
    }

    fn finish(self) -> Result<IndexedFleet, Stop> {
        self.all.finish().map_err(Stop::Error)
    }
}

fn read_chunks(chunks: &[Chunk<'_>]) -> Vec<Piece> {
    super::par::map_chunks(chunks, Chunk::read)
}

/// Streams the rest of `input` (after `buf`, already read) into an index.
///
/// Three things run at once: the block in hand is parsed, the pieces of
/// the block before are assembled, and the next block is read and cut
/// (its first bytes are what the block in hand left over). Errors are
/// reported in file order: the parse and assembly of earlier text first.
fn stream<R: Read + Send>(
    input: &mut Input<'_, R>,
    mut buf: Vec<u8>,
    mut framing: Framing,
) -> Result<IndexedFleet, Stop> {
    let pieces = threads() * 2;
    let mut load = Load::new();
    let mut pending: Vec<Piece> = Vec::new();
    let io = |e| Stop::Error(io_error(e));
    let mut at_end = input.fill(&mut buf).map_err(io)?;
    let mut cut = framing.cut(&buf, at_end, pieces)?;
    loop {
        // No whole record yet (one longer than a block): read on into the
        // same buffer rather than copying it forward again.
        while cut.spans.is_empty() && !at_end {
            input.advance(cut.end);
            buf.drain(..cut.end);
            at_end = input.fill(&mut buf).map_err(io)?;
            cut = framing.cut(&buf, at_end, pieces)?;
        }
        let mut next = buf.get(cut.end..).unwrap_or_default().to_vec();
        let chunks = cut.chunks(&buf, pieces);
        let previous = std::mem::take(&mut pending);
        let (reader, block, framing) = (&mut input.reader, input.block, &mut framing);
        let ((read, assembled), ahead) = join(
            || join(|| read_chunks(&chunks), || load.assemble(previous)),
            || -> Result<Option<(bool, Cut)>, Stop> {
                if at_end {
                    return Ok(None);
                }
                let end = fill(reader, block, &mut next).map_err(io)?;
                Ok(Some((end, framing.cut(&next, end, pieces)?)))
            },
        );
        drop(chunks);
        assembled?;
        input.advance(cut.end);
        pending = read;
        let ahead = match ahead {
            Ok(ahead) => ahead,
            Err(stop) => {
                // What comes earlier in the file is reported first.
                load.assemble(pending)?;
                return Err(stop);
            }
        };
        let Some((end, next_cut)) = ahead else {
            break;
        };
        buf = next;
        at_end = end;
        cut = next_cut;
    }
    load.assemble(pending)?;
    load.finish()
}

/// An I/O error while streaming; the caller names the file.
fn io_error(source: std::io::Error) -> FleetError {
    FleetError::Io {
        path: String::new(),
        source,
    }
}

/// Cuts `bytes` at line ends into about `pieces` pieces of whole lines.
fn cut_lines(bytes: &[u8], pieces: usize) -> Vec<&[u8]> {
    let mut cuts = Vec::with_capacity(pieces + 1);
    let step = bytes.len() / pieces.max(1);
    let mut start = 0usize;
    for k in 1..pieces {
        let target = (k * step).max(start);
        let Some(tail) = bytes.get(target..) else {
            break;
        };
        match memchr::memchr(b'\n', tail) {
            Some(i) => {
                let end = target + i + 1;
                cuts.push(bytes.get(start..end).unwrap_or_default());
                start = end;
            }
            None => break,
        }
    }
    cuts.push(bytes.get(start..).unwrap_or_default());
    cuts
}

/// Where the split of a JSON Lines text falls: at line ends only.
fn split_at_lines<'b>(bytes: &'b [u8], cuts: &[usize]) -> Vec<&'b [u8]> {
    let mut out = Vec::new();
    let mut start = 0usize;
    for &cut in cuts {
        if cut <= start || cut > bytes.len() {
            continue;
        }
        if let Some(piece) = bytes.get(start..cut) {
            out.push(piece);
        }
        start = cut;
    }
    out.push(bytes.get(start..).unwrap_or_default());
    out
}

/// JSON Lines from memory, read in the given pieces (whole lines each, in
/// order).
fn lines_in_pieces(pieces: &[&[u8]]) -> Result<IndexedFleet, FleetError> {
    let chunks: Vec<Chunk<'_>> = pieces.iter().map(|p| Chunk::Lines(p)).collect();
    let mut load = Load::new();
    let built = load
        .assemble(read_chunks(&chunks))
        .and_then(|()| load.finish());
    match built {
        Ok(fleet) => Ok(fleet),
        Err(Stop::Error(e)) => Err(e),
        // Lines never refuse: a line the fast reader refuses is read by
        // the exact reader on the spot.
        Err(Stop::Refused) => {
            Fleet::from_json_lines(pieces.concat().as_slice()).map(IndexedFleet::new)
        }
    }
}

/// A JSON document from memory: see [`IndexedFleet::from_json`].
fn from_json(bytes: &[u8]) -> Result<IndexedFleet, FleetError> {
    let pieces = if bytes.len() < (1 << 20) {
        1
    } else {
        threads() * 4
    };
    let built = Framing::Document(Splitter::default())
        .cut(bytes, true, pieces)
        .and_then(|cut| {
            let mut load = Load::new();
            load.assemble(read_chunks(&cut.chunks(bytes, pieces)))?;
            load.finish()
        });
    match built {
        Ok(fleet) => Ok(fleet),
        Err(Stop::Error(e)) => Err(e),
        Err(Stop::Refused) => Fleet::from_json(bytes).map(IndexedFleet::new),
    }
}

/// The format of a document from its first block, when that block decides
/// it: the wrapper `{"hosts": [` says fleetscope at once; an array needs
/// its first record whole. `None`: read the whole document to tell.
fn format_of_start(start: &[u8]) -> Option<FleetFormat> {
    let mut splitter = Splitter::default();
    let scan = splitter.scan(start, false).ok()?;
    if splitter.is_wrapped() {
        return Some(FleetFormat::Fleetscope);
    }
    let first = start.get(scan.records.first()?.clone())?;
    let mut alone = Vec::with_capacity(first.len() + 2);
    alone.push(b'[');
    alone.extend_from_slice(first);
    alone.push(b']');
    Some(detect(&alone))
}

/// A fleet file: see [`IndexedFleet::load_with`].
pub(crate) fn load(
    path: &FsPath,
    format: Option<FleetFormat>,
    progress: &dyn Fn(Progress),
) -> Result<IndexedFleet, FleetError> {
    let file = std::fs::File::open(path).map_err(|e| named(path, io_error(e)))?;
    let total = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut input = Input {
        reader: file,
        block: BLOCK,
        done: 0,
        total,
        progress,
    };
    let fleetscope = matches!(format, None | Some(FleetFormat::Fleetscope));
    let streamed = if is_json_lines(path) && fleetscope {
        stream(&mut input, Vec::new(), Framing::Lines { clean: 0 })
    } else {
        load_document(&mut input, format)
    };
    match streamed {
        Ok(fleet) => Ok(fleet),
        Err(Stop::Error(e)) => Err(named(path, e)),
        // The exact reader words what the fast one refused (JSON Lines
        // never refuse: a refused line is read by the exact reader at
        // once).
        Err(Stop::Refused) => {
            Fleet::load_with(path, format.unwrap_or(FleetFormat::Fleetscope)).map(IndexedFleet::new)
        }
    }
}

/// A JSON document: streamed when it is fleetscope's own (told by its
/// first block, unless `format` says), else read whole and converted.
fn load_document<R: Read + Send>(
    input: &mut Input<'_, R>,
    format: Option<FleetFormat>,
) -> Result<IndexedFleet, Stop> {
    let io = |e| Stop::Error(io_error(e));
    let mut start = Vec::new();
    let whole = input.fill(&mut start).map_err(io)?;
    let decided = match format {
        Some(f) => Some(f),
        None if whole => Some(detect(&start)),
        None => format_of_start(&start),
    };
    if decided == Some(FleetFormat::Fleetscope) && !whole {
        return stream(input, start, Framing::Document(Splitter::default()));
    }
    let bytes = input.rest(start).map_err(io)?;
    match decided.unwrap_or_else(|| detect(&bytes)) {
        FleetFormat::Fleetscope => from_json(&bytes).map_err(Stop::Error),
        inventory => Fleet::from_json_with(&bytes, inventory)
            .map(IndexedFleet::new)
            .map_err(Stop::Error),
    }
}

/// `e` with the file's name, when it is an I/O error.
fn named(path: &FsPath, e: FleetError) -> FleetError {
    match e {
        FleetError::Io { source, .. } => FleetError::Io {
            path: path.display().to_string(),
            source,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_fall_at_line_ends_and_cover_the_text() {
        let text = b"{\"name\":\"a\"}\n{\"name\":\"bb\"}\n\n{\"name\":\"c\"}";
        for pieces in 1..8 {
            let cut = cut_lines(text, pieces);
            assert_eq!(cut.concat(), text.to_vec());
            for piece in cut.iter().take(cut.len() - 1) {
                assert!(piece.ends_with(b"\n"));
            }
        }
    }

    #[test]
    fn a_document_start_decides_its_format_only_when_it_can() {
        let fleetscope = br#"[{"name":"a","facts":{"x":1}}, {"name": "b"#;
        assert_eq!(format_of_start(fleetscope), Some(FleetFormat::Fleetscope));
        let wrapped = br#"{"hosts": [{"name":"#;
        assert_eq!(format_of_start(wrapped), Some(FleetFormat::Fleetscope));
        let puppetdb = br#"[{"certname":"a","facts":{}}, {"cert"#;
        assert_eq!(format_of_start(puppetdb), Some(FleetFormat::PuppetDb));
        let ec2 = br#"[{"Reservations":[]}, {"Reser"#;
        assert_eq!(format_of_start(ec2), Some(FleetFormat::Ec2));
        // The first record is not whole, or the document is an object.
        assert_eq!(format_of_start(br#"[{"name":"a", "facts": {"#), None);
        assert_eq!(
            format_of_start(br#"{"_meta": {"hostvars": {}}, "all""#),
            None
        );
    }
}
