//! A progress line on stderr for runs longer than about a second, only on a terminal (never in
//! pipes or CI), and colours for `warning:`/`error:` under the same conditions (and `NO_COLOR`).

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use docidx::index::PROGRESS;

/// Shows `docidx: N/M docs` on stderr while alive, once the run has taken a second.
pub struct ProgressLine {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ProgressLine {
    pub fn start(quiet: bool) -> ProgressLine {
        let stop = Arc::new(AtomicBool::new(false));
        let show = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let thread = show.then(|| {
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let started = Instant::now();
                let tick = Duration::from_millis(100);
                let mut shown = false;
                while !stop.load(Ordering::Relaxed) {
                    // Woken at once when the run ends (`Drop` unparks it), not at the next tick.
                    std::thread::park_timeout(tick);
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    if started.elapsed() >= Duration::from_secs(1) {
                        let total = PROGRESS.total.load(Ordering::Relaxed);
                        let done = PROGRESS.done.load(Ordering::Relaxed).min(total);
                        if total > 0 {
                            let _ =
                                write!(std::io::stderr(), "\r\x1b[Kdocidx: {done}/{total} docs");
                            shown = true;
                        }
                    }
                }
                if shown {
                    let _ = write!(std::io::stderr(), "\r\x1b[K");
                }
            })
        });
        ProgressLine { stop, thread }
    }
}

impl Drop for ProgressLine {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.thread().unpark();
            let _ = t.join();
        }
    }
}

/// Whether to colour stderr: a terminal, and `NO_COLOR` unset.
pub fn stderr_color() -> bool {
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// `warning:` in bold yellow when colour is on.
pub fn warning_label() -> &'static str {
    if stderr_color() {
        "\x1b[1;33mwarning\x1b[0m:"
    } else {
        "warning:"
    }
}

/// `error:` in bold red when colour is on.
pub fn error_label() -> &'static str {
    if stderr_color() {
        "\x1b[1;31merror\x1b[0m:"
    } else {
        "error:"
    }
}
