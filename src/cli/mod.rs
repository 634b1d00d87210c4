//! Command-line parsing and wiring: one file per subcommand, each reading
//! its flags and calling the library; errors are rendered here.

pub mod args;
pub mod common;
mod extract;
mod init;
mod mutate;
mod record;
mod run;
mod serve;
mod snapshots;

pub use args::{Cli, Command};
use clap::Parser;
pub use common::EXIT_UNUSABLE;

/// Runs the CLI and returns the process exit code.
pub fn main() -> i32 {
    let cli = Cli::parse();
    crate::source::yaml::set_limits(cli.max_yaml_nodes, cli.max_yaml_depth);
    crate::behaviour::template::set_fuel(cli.template_fuel);
    crate::generate::pattern::set_max_length(cli.max_generated_length);
    crate::scenario::variables::set_max_filled_length(cli.max_filled_length);
    crate::spec::schema::set_quote_limit(cli.max_quoted_length);
    match cli.command {
        Command::Serve(mut args) => {
            args.spec = args.spec.take().or(args.spec_file.take());
            serve::serve_command(*args)
        }
        Command::Run(args) => run::run_command(*args),
        Command::Diff(args) => run::diff_command(*args),
        Command::Record(args) => record::record_command(*args),
        Command::Mutate(args) => mutate::mutate_command(*args),
        Command::Extract(args) => extract::extract_command(args),
        Command::Snapshots(args) => snapshots::snapshots_command(args),
        Command::Init(args) => init::init_command(args),
    }
}
