//! `imgcluster`: unsupervised image classification with k-means, from the command line.

mod args;
mod classify;
mod data;
mod features_cmd;
mod output;
mod predict;
mod progress;
mod quantize;
mod run;
mod summary;
mod tutorial;

use std::io::{self, Write};
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use args::{Cli, Command};

fn main() -> ExitCode {
    // The version line names the kernels' instruction set (capped by IMGCLUSTER_ISA).
    let version = format!(
        "{} (kernels: {})",
        env!("CARGO_PKG_VERSION"),
        imgcluster::kernels::isa_name()
    );
    let parsed = Cli::command()
        .version(version.leak() as &str)
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    output::install_interrupt_cleanup();
    let progress = progress::Progress::new(cli.progress, cli.quiet);
    let mut stdout = io::stdout().lock();
    let result = match cli.command {
        Command::Tutorial(a) => tutorial::run(&a, &progress, &mut stdout),
        Command::Classify(a) => classify::run(&a, &progress, &mut stdout),
        Command::Features(a) => features_cmd::run(&a, &progress, &mut stdout),
        Command::Predict(a) => predict::run(&a, &progress, &mut stdout),
        Command::Quantize(a) => quantize::run(&a, &progress, &mut stdout),
    }
    .and_then(|()| stdout.flush().map_err(anyhow::Error::from));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(io::stderr(), "imgcluster: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// A reader that went away (`imgcluster ... | head`) is not an error.
fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<io::Error>()
            .is_some_and(|io| io.kind() == io::ErrorKind::BrokenPipe)
    })
}
