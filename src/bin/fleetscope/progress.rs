//! Loading a fleet file with a progress bar: on stderr, only when stderr
//! is a terminal and the file is larger than [`MIN_BYTES`]. Nothing is
//! ever drawn into stdout, so JSON output stays clean.

use std::io::IsTerminal;

use fleetscope::{FleetError, FleetFormat, IndexedFleet, Progress};

/// Files below this size load too fast for a bar to help.
const MIN_BYTES: u64 = 50 * 1000 * 1000;

pub(crate) fn load(path: &str, format: Option<FleetFormat>) -> Result<IndexedFleet, FleetError> {
    let load = |progress: &dyn Fn(Progress)| match format {
        None => IndexedFleet::load_with(path, progress),
        Some(format) => IndexedFleet::load_as(path, format, progress),
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if size < MIN_BYTES || !std::io::stderr().is_terminal() {
        return load(&|_| {});
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(size),
        indicatif::ProgressDrawTarget::stderr(),
    );
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "loading {msg} [{bar:30}] {bytes}/{total_bytes} ({eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(path.to_string());
    let fleet = load(&|p: Progress| bar.set_position(p.done));
    bar.finish_and_clear();
    fleet
}
