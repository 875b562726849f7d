//! CLI stage, progress: one indicatif bar or spinner on stderr for the commands that solve many
//! LPs or long ones. On a terminal it redraws in place; when stderr is not a terminal (a batch
//! job's log, a pipe) it writes a plain line at most every ten seconds, so a log shows that a long
//! sweep is alive without filling with redraws; `--quiet` hides it.

use std::io::{IsTerminal, Write};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

/// Seconds between two log lines when stderr is not a terminal; `CAPPLAN_PROGRESS_SECONDS`
/// changes it (a test hook, and for logs that want more or fewer lines).
const LOG_EVERY_SECONDS: f64 = 10.0;

/// A bar over `len` steps, or a spinner when the number of steps is unknown (`None`).
pub fn start(len: Option<u64>, quiet: bool, message: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let terminal = std::io::stderr().is_terminal();
    let target = if terminal {
        ProgressDrawTarget::stderr()
    } else {
        let every = std::env::var("CAPPLAN_PROGRESS_SECONDS")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .unwrap_or(LOG_EVERY_SECONDS);
        ProgressDrawTarget::term_like(Box::new(LogLines::new(Duration::from_secs_f64(every))))
    };
    let bar = ProgressBar::with_draw_target(len, target);
    let template = match (len, terminal) {
        (Some(_), true) => "{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
        (Some(_), false) => "{pos}/{len} {msg} ({elapsed}, eta {eta})",
        (None, true) => "{spinner} {msg} ({elapsed})",
        (None, false) => "{msg} ({elapsed})",
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("a valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_string());
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// A log as indicatif's terminal: each drawing is gathered and written as one line to stderr
/// when `every` has passed since the last line written or the start, so a run shorter than
/// `every` writes nothing (its stderr is its warnings and errors alone).
#[derive(Debug)]
struct LogLines {
    every: Duration,
    /// The drawing being made, and when a line was last written.
    state: Mutex<(String, Option<Instant>)>,
}

impl LogLines {
    fn new(every: Duration) -> LogLines {
        LogLines {
            every,
            state: Mutex::new((String::new(), Some(Instant::now()))),
        }
    }
}

impl TermLike for LogLines {
    fn width(&self) -> u16 {
        100
    }
    fn move_cursor_up(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_down(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_right(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn move_cursor_left(&self, _: usize) -> std::io::Result<()> {
        Ok(())
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(s)
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if !s.trim().is_empty() {
            if !state.0.is_empty() {
                state.0.push(' ');
            }
            state.0.push_str(s.trim());
        }
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let line = std::mem::take(&mut state.0);
        let due = state.1.is_none_or(|last| last.elapsed() >= self.every);
        if due && !line.is_empty() {
            state.1 = Some(Instant::now());
            let mut err = std::io::stderr().lock();
            writeln!(err, "{line}")?;
        }
        Ok(())
    }
}
