//! CLI stage: clap argument parsing and the subcommands, which only compose pipeline stages.

mod validate;

use std::path::PathBuf;

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::Result;

const ABOUT: &str =
    "Plan AI inference capacity across clouds: how much to reserve from which provider, \
how to spread the load, at least cost, with what-ifs and resilience.";

#[derive(Parser, Debug)]
#[command(name = "capplan", version, about = ABOUT, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a scenario folder and print a short summary of it (errors name file, line and column).
    #[command(
        after_help = "Examples:\n  capplan validate scenarios/frontier-2026\n  capplan validate scenarios/aws-delay --format json"
    )]
    Validate(ValidateArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  capplan completions bash > /etc/bash_completion.d/capplan\n  capplan completions zsh > ~/.zfunc/_capplan"
    )]
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// The scenario folder (demand.csv, capacity.csv, optional routes.csv, outages.csv, scenario.toml).
    pub scenario: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs the command line; returns the process exit code. Errors are rendered here, once.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("{e}");
            e.exit_code()
        }
    }
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate(args) => validate::execute(&args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "capplan",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    }
}
