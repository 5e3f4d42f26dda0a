//! The shell's progress bar, driven by [`crate::SqlRunner`]'s callback.
//!
//! A bar only appears when stderr is a terminal (so scripts and pipes get
//! clean output) and only once a query has run for [`SHOW_AFTER`] (so quick
//! queries do not flicker).

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long a query runs before its progress bar appears.
pub const SHOW_AFTER: Duration = Duration::from_millis(500);

/// Progress of one query: the latest `(done, total)` and, once shown, the bar.
pub struct Progress {
    enabled: bool,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    done: u32,
    total: u32,
    bar: Option<ProgressBar>,
}

impl Progress {
    /// A progress tracker; `enabled` is whether a bar may be drawn at all
    /// (typically: stderr is a terminal).
    pub fn new(enabled: bool) -> Self {
        Self {
            enabled,
            state: Mutex::new(State::default()),
        }
    }

    /// Records that `done` of `total` tasks have finished (total 0: unknown).
    pub fn update(&self, done: u32, total: u32) {
        let mut state = self.lock();
        state.done = done;
        state.total = total;
        if let Some(bar) = &state.bar {
            show_counts(bar, done, total);
        }
    }

    /// Draws the bar (once the query has run long enough).
    pub fn show(&self) {
        if !self.enabled {
            return;
        }
        let mut state = self.lock();
        if state.bar.is_some() {
            return;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(100));
        show_counts(&bar, state.done, state.total);
        state.bar = Some(bar);
    }

    /// Removes the bar, if shown, before the result is printed.
    pub fn finish(&self) {
        if let Some(bar) = self.lock().bar.take() {
            bar.finish_and_clear();
        }
    }

    /// Whether the bar is drawn.
    pub fn is_shown(&self) -> bool {
        self.lock().bar.is_some()
    }

    /// The latest `(done, total)`.
    pub fn counts(&self) -> (u32, u32) {
        let state = self.lock();
        (state.done, state.total)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the counts invalid.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn show_counts(bar: &ProgressBar, done: u32, total: u32) {
    if total > 0 {
        bar.set_length(u64::from(total));
        bar.set_position(u64::from(done));
        bar.set_message(format!("{done}/{total} tasks"));
    } else {
        bar.set_message(format!("{done} tasks"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disabled_progress_never_draws() {
        let progress = Progress::new(false);
        progress.update(1, 4);
        progress.show();
        assert!(!progress.is_shown());
        assert_eq!(progress.counts(), (1, 4));
    }

    #[test]
    fn a_shown_bar_follows_updates_and_goes_away() {
        let progress = Progress::new(true);
        progress.update(1, 4);
        progress.show();
        assert!(progress.is_shown());
        progress.update(3, 4);
        {
            let state = progress.lock();
            let bar = state.bar.as_ref().unwrap();
            assert_eq!((bar.position(), bar.length()), (3, Some(4)));
        }
        progress.finish();
        assert!(!progress.is_shown());
    }
}
