//! CLI stage, progress: one indicatif bar or spinner on stderr for the commands that solve many
//! LPs or long ones; hidden when stderr is not a terminal (pipes, CI, tests) or with `--quiet`,
//! so it never mixes into captured output.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar over `len` steps, or a spinner when the number of steps is unknown (`None`).
pub fn start(len: Option<u64>, quiet: bool, message: &str) -> ProgressBar {
    if quiet || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(len, ProgressDrawTarget::stderr());
    let template = match len {
        Some(_) => "{spinner} [{bar:30}] {pos}/{len} {msg} ({elapsed}, eta {eta})",
        None => "{spinner} {msg} ({elapsed})",
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
