//! Progress bars and spinners on standard error.
//!
//! Shown only when standard error is a terminal (or with `--progress always`), never with
//! `--quiet`. Standard output is never written here, so `--json` output stays one line.

use std::borrow::Cow;
use std::io::{self, IsTerminal, Write};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use imgcluster::features::{Stage, StageObserver};
use imgcluster::kmeans::FitProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};

use crate::args::ProgressArg;

/// Where progress goes: nowhere, or standard error.
#[derive(Debug, Clone, Copy)]
pub struct Progress {
    target: Target,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Hidden,
    /// Standard error is a terminal.
    Terminal,
    /// Standard error is not a terminal but progress was asked for.
    Forced,
}

impl Progress {
    /// From `--progress` and `--quiet`.
    pub fn new(mode: ProgressArg, quiet: bool) -> Self {
        let target = match mode {
            _ if quiet => Target::Hidden,
            ProgressArg::Never => Target::Hidden,
            ProgressArg::Auto if io::stderr().is_terminal() => Target::Terminal,
            ProgressArg::Auto => Target::Hidden,
            ProgressArg::Always if io::stderr().is_terminal() => Target::Terminal,
            ProgressArg::Always => Target::Forced,
        };
        Self { target }
    }

    /// Whether anything is shown.
    pub fn shown(&self) -> bool {
        self.target != Target::Hidden
    }

    fn draw_target(&self) -> ProgressDrawTarget {
        match self.target {
            Target::Hidden => ProgressDrawTarget::hidden(),
            Target::Terminal => ProgressDrawTarget::stderr(),
            Target::Forced => ProgressDrawTarget::term_like(Box::new(PlainStderr)),
        }
    }

    /// A spinner with a message and the elapsed time, until the returned phase is dropped.
    pub fn spinner(&self, message: impl Into<Cow<'static, str>>) -> Phase {
        let bar = ProgressBar::with_draw_target(None, self.draw_target());
        bar.set_style(
            ProgressStyle::with_template("{spinner:.cyan} {msg} {elapsed:.dim}")
                .expect("valid template")
                .tick_chars("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏ "),
        );
        bar.set_message(message);
        bar.enable_steady_tick(Duration::from_millis(100));
        Phase(bar)
    }

    /// A bar of `len` steps with a message, until the returned phase is dropped.
    pub fn bar(&self, len: u64, message: impl Into<Cow<'static, str>>) -> Phase {
        let bar = ProgressBar::with_draw_target(Some(len), self.draw_target());
        bar.set_style(
            ProgressStyle::with_template(
                "{msg} [{bar:30.cyan/blue}] {human_pos}/{human_len} {elapsed:.dim} (eta {eta})",
            )
            .expect("valid template")
            .progress_chars("━╸ "),
        );
        bar.set_message(message);
        Phase(bar)
    }
}

/// A running spinner or bar; cleared from the terminal when dropped.
pub struct Phase(ProgressBar);

impl Phase {
    /// Sets a bar's length and position.
    pub fn set(&self, pos: u64, len: u64) {
        self.0.set_length(len);
        self.0.set_position(pos);
    }
}

/// Runs `fit` (which counts its passes in the [`FitProgress`] it is given) under a bar
/// of those passes, `planned` until the fit announces its own total, redrawn from
/// another thread ten times a second; without a bar shown, just runs it.
pub fn with_fit_bar<R: Send>(
    progress: &Progress,
    message: String,
    planned: u64,
    fit: impl FnOnce(Option<Arc<FitProgress>>) -> R + Send,
) -> R {
    if !progress.shown() {
        return fit(None);
    }
    let counter = Arc::new(FitProgress::default());
    let bar = progress.bar(planned, message);
    // The redrawing thread stops as soon as the fit ends and drops `stop`.
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let (counter, bar) = (&counter, &bar);
        s.spawn(move || loop {
            if counter.total() > 0 {
                bar.set(counter.done(), counter.total());
            }
            if stopped.recv_timeout(Duration::from_millis(100)) != Err(RecvTimeoutError::Timeout) {
                break;
            }
        });
        let out = fit(Some(Arc::clone(counter)));
        drop(stop);
        out
    })
}

/// The stage each variant of a fit is in, as the fit reports it ([`StageObserver`]),
/// shown on a spinner as soon as it changes.
pub struct StageDisplay {
    /// The stage of the single variant, of the deskewed one, of the one as given.
    stages: Mutex<[Option<Stage>; 3]>,
    title: String,
    counter: Arc<FitProgress>,
    spinner: ProgressBar,
}

impl StageObserver for StageDisplay {
    fn stage(&self, stage: Stage, deskewed: Option<bool>) {
        let slot = match deskewed {
            None => 0,
            Some(true) => 1,
            Some(false) => 2,
        };
        if let Ok(mut s) = self.stages.lock() {
            s[slot] = Some(stage);
        }
        self.redraw();
    }
}

impl StageDisplay {
    /// Shows `title: stage` (or both variants' stages), with the k-means passes.
    fn redraw(&self) {
        let stages = self.stages.lock().map(|s| *s).unwrap_or_default();
        let c = &self.counter;
        let passes = if c.total() > 0 {
            format!(" {}/{} passes", c.done(), c.total())
        } else {
            String::new()
        };
        let named = |s: Option<Stage>| match s {
            Some(Stage::KMeans) => format!("k-means{passes}"),
            Some(s) => s.name().to_string(),
            None => "starting".to_string(),
        };
        let title = &self.title;
        self.spinner.set_message(match stages {
            [_, None, None] => format!("{title}: {}", named(stages[0])),
            [_, d, p] => format!("{title}: deskewed: {} · as given: {}", named(d), named(p)),
        });
    }
}

/// Runs `fit` (which reports its stages to the [`StageDisplay`] and counts its k-means
/// passes in the [`FitProgress`] it is given) under a spinner naming the stage, also
/// redrawn from another thread ten times a second for the passes; without progress shown,
/// just runs it.
pub fn with_stage_spinner<R: Send>(
    progress: &Progress,
    title: String,
    fit: impl FnOnce(Option<(Arc<StageDisplay>, Arc<FitProgress>)>) -> R + Send,
) -> R {
    if !progress.shown() {
        return fit(None);
    }
    let counter = Arc::new(FitProgress::default());
    let phase = progress.spinner(format!("{title}: starting"));
    let display = Arc::new(StageDisplay {
        stages: Mutex::default(),
        title,
        counter: Arc::clone(&counter),
        spinner: phase.0.clone(),
    });
    let (stop, stopped) = mpsc::channel::<()>();
    std::thread::scope(|s| {
        let display = &display;
        s.spawn(move || loop {
            if stopped.recv_timeout(Duration::from_millis(100)) != Err(RecvTimeoutError::Timeout) {
                break;
            }
            display.redraw();
        });
        let out = fit(Some((Arc::clone(display), counter)));
        drop(stop);
        out
    })
}

impl Drop for Phase {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Standard error drawn as a plain terminal of 80 columns, for `--progress always` when it
/// is a file or a pipe.
#[derive(Debug)]
struct PlainStderr;

impl PlainStderr {
    fn put(&self, s: &str) -> io::Result<()> {
        io::stderr().lock().write_all(s.as_bytes())
    }
}

impl TermLike for PlainStderr {
    fn width(&self) -> u16 {
        80
    }

    fn move_cursor_up(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}A"))?;
        }
        Ok(())
    }

    fn move_cursor_down(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}B"))?;
        }
        Ok(())
    }

    fn move_cursor_right(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}C"))?;
        }
        Ok(())
    }

    fn move_cursor_left(&self, n: usize) -> io::Result<()> {
        if n > 0 {
            self.put(&format!("\x1b[{n}D"))?;
        }
        Ok(())
    }

    fn write_line(&self, s: &str) -> io::Result<()> {
        self.put(&format!("{s}\n"))
    }

    fn write_str(&self, s: &str) -> io::Result<()> {
        self.put(s)
    }

    fn clear_line(&self) -> io::Result<()> {
        self.put("\r\x1b[2K")
    }

    fn flush(&self) -> io::Result<()> {
        io::stderr().flush()
    }
}
