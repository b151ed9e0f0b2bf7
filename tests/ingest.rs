//! Reading fleet files straight into the index, as an embedding tool or
//! the CLI does: the fast reader accepts and rejects exactly what the exact
//! reader (`Fleet::from_json`, `Fleet::from_json_lines`) does, with the same
//! messages, and JSON Lines read in parallel pieces give the same fleet
//! wherever the pieces are cut.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]
use fleetscope::{Fleet, FleetError, IndexedFleet};
use proptest::prelude::*;

/// What a load gives, comparably: the rebuilt hosts, or the error text.
fn outcome(r: Result<IndexedFleet, FleetError>) -> Result<Fleet, String> {
    r.map(|f| f.to_fleet()).map_err(|e| e.to_string())
}

fn exact_lines(bytes: &[u8]) -> Result<Fleet, String> {
    Fleet::from_json_lines(bytes).map_err(|e| e.to_string())
}

fn exact_json(bytes: &[u8]) -> Result<Fleet, String> {
    Fleet::from_json(bytes).map_err(|e| e.to_string())
}

/// One line of JSON Lines: mostly valid hosts (some unusual: escapes, nulls,
/// empty objects, repeated keys, the array form), some blank, some broken.
fn line() -> impl Strategy<Value = String> {
    let name = prop::sample::select(&["a", "b", "c", "web-1", "d\\u00e9", ""][..]);
    prop_oneof![
        6 => name.clone().prop_map(|n| format!("{{\"name\":\"{n}\",\"roles\":[\"web\"],\"tags\":{{\"env\":\"prod\"}},\"facts\":{{\"os\":{{\"v\":\"22.04\"}},\"cpus\":4}}}}")),
        2 => name.clone().prop_map(|n| format!("{{\"facts\":{{\"x\":null,\"y\":{{}},\"z\":[1,[2]]}},\"name\":\"{n}\"}}")),
        1 => name.clone().prop_map(|n| format!("{{\"name\":\"{n}\",\"tags\":{{\"k\":\"1\",\"k\":\"2\"}}}}")),
        1 => name.clone().prop_map(|n| format!("{{\"name\":\"{n}\",\"facts\":{{\"a\":1,\"a\":[true]}}}}")),
        1 => name.clone().prop_map(|n| format!("[\"{n}\", [\"db\"]]")),
        1 => Just(String::new()),
        1 => Just("   ".to_string()),
        1 => name.clone().prop_map(|n| format!("{{\"name\":\"{n}\",\"roles\":\"web\"}}")),
        1 => name.clone().prop_map(|n| format!("{{\"name\":\"{n}\",\"role\":[\"web\"]}}")),
        1 => name.clone().prop_map(|n| format!("{{\"name\":\"{n}\"}} {{\"name\":\"x\"}}")),
        1 => Just("{\"name\":".to_string()),
        1 => Just("{\"roles\":[]}".to_string()),
        1 => name.prop_map(|n| format!("{{\"name\":\"{n}\",\"facts\":7}}")),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Every cut at a line boundary (and a cut everywhere at once) gives
    /// the same fleet or the same error as one piece, and that is what
    /// the exact reader gives.
    #[test]
    fn json_lines_read_the_same_at_every_split(
        lines in prop::collection::vec(line(), 0..10),
        trailing in any::<bool>(),
    ) {
        let mut text = lines.join("\n");
        if trailing {
            text.push('\n');
        }
        let bytes = text.as_bytes();
        let whole = outcome(IndexedFleet::from_json_lines_cut_at(bytes, &[]));
        prop_assert_eq!(&whole, &exact_lines(bytes));
        prop_assert_eq!(&outcome(IndexedFleet::from_json_lines(bytes)), &whole);
        let ends: Vec<usize> = bytes
            .iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        for cut in &ends {
            prop_assert_eq!(
                &outcome(IndexedFleet::from_json_lines_cut_at(bytes, &[*cut])),
                &whole,
                "cut at byte {}", cut
            );
        }
        prop_assert_eq!(&outcome(IndexedFleet::from_json_lines_cut_at(bytes, &ends)), &whole);
    }

    /// The same records as a JSON array read as the exact reader reads
    /// them.
    #[test]
    fn json_documents_read_as_the_exact_reader_does(
        lines in prop::collection::vec(line(), 0..6),
        wrapped in any::<bool>(),
    ) {
        let records: Vec<String> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
        let array = format!("[\n{}\n]", records.join(",\n"));
        let text = if wrapped { format!("{{\"hosts\": {array}}}") } else { array };
        let bytes = text.as_bytes();
        prop_assert_eq!(outcome(IndexedFleet::from_json(bytes)), exact_json(bytes));
    }

    /// A JSON document streamed in blocks of every size (as a file is
    /// loaded: cut between records, the rest carried over) reads as the
    /// exact reader reads it; so does a document whose frame is broken
    /// (`frame`: a trailing, leading, doubled or missing comma, a bracket
    /// doubled or missing, text after the end) or whose structure is
    /// damaged anywhere (`damage`), compact or pretty-printed.
    #[test]
    fn json_documents_stream_the_same_in_blocks_of_every_size(
        lines in prop::collection::vec(line(), 0..5),
        wrapped in any::<bool>(),
        pretty in any::<bool>(),
        frame in 0u8..12,
        damage in prop::option::of((0usize..1000, prop::sample::select(&[",", "]", "}", "{", "[", "\"", " x"][..]), any::<bool>())),
    ) {
        let records: Vec<String> = lines.into_iter().filter(|l| !l.trim().is_empty()).collect();
        let sep = if pretty { ",\n  " } else { "," };
        let (open, close) = match frame {
            1 => ("[", ",]"),
            2 => ("[,", "]"),
            3 => ("[", "]]"),
            4 => ("[", ""),
            5 => ("[", "] x"),
            _ => ("[", "]"),
        };
        let sep = match frame {
            6 => ",,",
            7 => " ",
            _ => sep,
        };
        let array = format!("{open}{}{close}", records.join(sep));
        let mut text = if wrapped { format!("{{\"hosts\": {array}}}") } else { array };
        if let Some((at, what, insert)) = damage {
            // Damage next to a byte of the frame or of a record's structure
            // (where a splitter could go wrong), or at the very end.
            let mut spots: Vec<usize> = text
                .char_indices()
                .filter(|(_, c)| "[]{},\"".contains(*c))
                .map(|(i, _)| i)
                .collect();
            spots.push(text.len());
            let at = spots[at % spots.len()];
            if insert {
                text.insert_str(at, what);
            } else if at < text.len() {
                text.remove(at);
            }
        }
        let bytes = text.as_bytes();
        let exact = exact_json(bytes);
        prop_assert_eq!(&outcome(IndexedFleet::from_json(bytes)), &exact);
        // A valid document of objects streams without the exact reader
        // (only host records in serde's array form need it).
        let plain = exact.is_ok() && !records.iter().any(|r| r.starts_with('['));
        for block in 1..=bytes.len().max(1) {
            prop_assert_eq!(
                &outcome(IndexedFleet::from_json_in_blocks(bytes, block)),
                &exact,
                "blocks of {} bytes", block
            );
            if plain {
                prop_assert!(
                    !IndexedFleet::json_in_blocks_needs_exact_reader(bytes, block),
                    "blocks of {} bytes fell back to the exact reader", block
                );
            }
        }
    }
}

#[test]
fn errors_name_the_record_line_and_field_as_before() {
    let text = b"{\"name\":\"a\"}\n\n{\"name\":\"b\",\"tags\":{\"env\":1}}\n";
    let err = IndexedFleet::from_json_lines(text).expect_err("numeric tag");
    assert_eq!(
        err.to_string(),
        Fleet::from_json_lines(text)
            .expect_err("numeric tag")
            .to_string()
    );
    assert!(
        err.to_string()
            .starts_with("record 1, field `tags.env`, line 3"),
        "{err}"
    );

    let text = b"[{\"name\": \"a\"},\n {\"name\": \"b\", \"roles\": [1]}]";
    let err = IndexedFleet::from_json(text).expect_err("numeric role");
    assert_eq!(
        err.to_string(),
        Fleet::from_json(text)
            .expect_err("numeric role")
            .to_string()
    );
    assert!(
        err.to_string()
            .starts_with("record 1, field `roles[0]`, line 2"),
        "{err}"
    );
}

#[test]
fn duplicates_name_both_records_even_across_pieces() {
    let text = b"{\"name\":\"b\"}\n{\"name\":\"a\"}\n{\"name\":\"b\"}\n{\"name\":\"a\"}\n";
    for cut in [0, 13, 26, 39] {
        let err = IndexedFleet::from_json_lines_cut_at(text, &[cut]).expect_err("duplicates");
        // The exact reader reports the smallest duplicated name.
        assert!(
            matches!(&err, FleetError::DuplicateName { name, first: 1, second: 3 } if name == "a"),
            "{err:?}"
        );
    }
}

#[test]
fn a_file_loads_in_blocks_with_progress() {
    let dir = std::env::temp_dir().join(format!("fleetscope-ingest-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("fleet.jsonl");
    let mut text = String::new();
    for i in 0..2000 {
        text.push_str(&format!(
            "{{\"name\":\"h{i}\",\"roles\":[\"r{}\"],\"facts\":{{\"n\":{i}}}}}\n",
            i % 3
        ));
    }
    std::fs::write(&path, &text).expect("write fleet");
    let seen = std::cell::Cell::new(0u64);
    let fleet = IndexedFleet::load_with(&path, &|p| {
        assert!(p.done <= p.total);
        seen.set(p.done);
    })
    .expect("loads");
    assert_eq!(seen.get(), text.len() as u64);
    assert_eq!(
        fleet.to_fleet(),
        Fleet::from_json_lines(text.as_bytes()).expect("exact")
    );
    let json = dir.join("fleet.json");
    std::fs::write(&json, b"[{\"name\": \"x\"}]").expect("write fleet");
    assert_eq!(IndexedFleet::load(&json).expect("loads").len(), 1);
    let missing = IndexedFleet::load(dir.join("missing.jsonl")).expect_err("missing file");
    assert!(
        missing.to_string().starts_with("cannot read fleet file"),
        "{missing}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// Files larger than a block (16 MiB) stream in several: a valid document
/// and valid JSON Lines load as the exact readers read them; so do facts
/// that are not plain (an array of objects: that record alone goes to the
/// exact reader) and a record longer than a block; and an error in the
/// record before last — after the first blocks are already indexed — is
/// the exact reader's, word for word, with its record and line counted
/// across blocks.
#[test]
fn files_larger_than_a_block_stream_with_exact_errors() {
    let dir = std::env::temp_dir().join(format!("fleetscope-ingest-big-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let record = |i: usize| {
        format!(
            "{{\"name\":\"host-{i:06}.example.com\",\"roles\":[\"r{}\"],\"tags\":{{\"env\":\"e{}\",\"note\":\"{}\"}},\"facts\":{{\"os\":{{\"name\":\"x\",\"version\":\"{}\"}},\"n\":{i}}}}}",
            i % 7,
            i % 3,
            "pad".repeat(40),
            i % 11
        )
    };
    let count = 80_000; // about 21 MB
    let records: Vec<String> = (0..count).map(record).collect();
    let bad = records.len() - 2;
    // The records with the one before last changed.
    let with_bad = |from: &str, to: &str| -> Vec<String> {
        let mut changed = records.clone();
        changed[bad] = changed[bad].replace(from, to);
        changed
    };
    let broken = with_bad("\"n\":", "\"n\":[{}],\"m\":");
    // One record of 17 MB (a tag longer than a block) among short ones.
    let long = with_bad(
        "\"note\":\"",
        &format!("\"note\":\"{}", "x".repeat(17 << 20)),
    );
    let broken_tag = with_bad("\"env\":\"e", "\"env\":7,\"x\":\"e");
    let cases = [
        ("fleet.json", format!("[\n{}\n]\n", records.join(",\n"))),
        ("fleet.jsonl", records.join("\n")),
        ("facts.json", format!("[{}]", broken.join(","))),
        (
            "tag.json",
            format!("{{\"hosts\": [{}]}}", broken_tag.join(",\n  ")),
        ),
        ("tag.jsonl", broken_tag.join("\n")),
        ("long.json", format!("[{}]", long.join(","))),
        ("long.jsonl", long.join("\n")),
    ];
    for (name, text) in cases {
        assert!(text.len() > 16 << 20, "{name} spans more than one block");
        let path = dir.join(name);
        std::fs::write(&path, &text).expect("write fleet");
        let fast = outcome(IndexedFleet::load(&path));
        let exact = Fleet::load(&path).map_err(|e| e.to_string());
        assert_eq!(fast, exact, "{name}");
        if name.starts_with("fleet") || name.starts_with("long") || name == "facts.json" {
            assert_eq!(fast.expect("valid").len(), count, "{name}");
        } else if name.starts_with("tag") {
            let err = exact.expect_err("a tag that is a number");
            assert!(err.contains(&format!("record {bad}")), "{name}: {err}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// serde_json allows 127 arrays and objects open at once, counted from
/// the top of the text. A record read alone sits nearer the top than in
/// its document, so around that depth the document must go to the exact
/// reader: every depth reads as `Fleet::from_json` reads it, in an array
/// and in `{"hosts": [...]}`, in memory and in blocks.
#[test]
fn records_nested_near_the_depth_limit_read_as_the_exact_reader_does() {
    for depth in 118..=130 {
        let facts = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        let arrays = format!("{}1{}", "[".repeat(depth), "]".repeat(depth));
        for value in [facts, arrays] {
            let record = format!("{{\"name\":\"a\",\"facts\":{{\"x\":{value}}}}}");
            for text in [
                format!("[{record}]"),
                format!("{{\"hosts\": [{{\"name\":\"b\"}}, {record}]}}"),
            ] {
                let bytes = text.as_bytes();
                let exact = exact_json(bytes);
                assert_eq!(
                    outcome(IndexedFleet::from_json(bytes)),
                    exact,
                    "depth {depth}"
                );
                for block in [7, 64, 4096] {
                    assert_eq!(
                        outcome(IndexedFleet::from_json_in_blocks(bytes, block)),
                        exact,
                        "depth {depth}, blocks of {block}"
                    );
                }
            }
        }
    }
    // The limit is reached in this range, so both outcomes were seen.
    let deep = format!(
        "[{{\"name\":\"a\",\"facts\":{{\"x\":{}1{}}}}}]",
        "[".repeat(130),
        "]".repeat(130)
    );
    assert!(exact_json(deep.as_bytes()).is_err());
}
