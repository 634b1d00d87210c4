//! The command line's grammar: every subcommand and its flags, as clap reads them.

use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser, Debug)]
#[command(
    name = "understudy",
    version,
    about = "A stateful mock and conformance runner driven by one OpenAPI contract"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Values one spec, fixture or scenario file may expand to (YAML
    /// aliases count each time they are used).
    #[arg(long, global = true, value_name = "N",
          default_value_t = crate::source::yaml::DEFAULT_MAX_NODES)]
    pub max_yaml_nodes: usize,
    /// Nesting depth one spec, fixture or scenario file may reach.
    #[arg(long, global = true, value_name = "N",
          default_value_t = crate::source::yaml::DEFAULT_MAX_DEPTH)]
    pub max_yaml_depth: usize,
    /// Work one evaluation of a fixture template or expression may do
    /// (about an instruction, or 64 bytes created, per unit).
    #[arg(long, global = true, value_name = "N",
          default_value_t = crate::behaviour::template::DEFAULT_FUEL)]
    pub template_fuel: u64,
    /// Longest string a `pattern` may generate (a fixture's generator that
    /// could exceed it is refused at load).
    #[arg(long, global = true, value_name = "N",
          default_value_t = crate::generate::pattern::DEFAULT_MAX_LENGTH)]
    pub max_generated_length: usize,
    /// Longest text filling in a scenario's `${…}` references may make.
    #[arg(long, global = true, value_name = "BYTES",
          default_value_t = crate::scenario::variables::DEFAULT_MAX_FILLED_LENGTH)]
    pub max_filled_length: usize,
    /// Longest part of a client's invalid value quoted back in an error
    /// answer or a log line (the rest is cut, its length said).
    #[arg(long, global = true, value_name = "BYTES",
          default_value_t = crate::spec::schema::DEFAULT_QUOTE_LIMIT)]
    pub max_quoted_length: usize,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve a mock of an OpenAPI spec (with no --spec: the three bundled APIs).
    #[command(after_help = "Examples:
  understudy serve                                  # mittwald :4010, waldur :4011, datallog :4012
  understudy serve openapi.yaml --port 8080         # any OpenAPI 3.0/3.1 spec (or --spec)
  understudy serve --spec api.yaml --fixture fixtures/api.yaml
  curl -H 'x-access-token: t' http://127.0.0.1:4010/v2/servers
  curl -H 'Prefer: code=404' ...                    # ask for a documented status")]
    Serve(Box<ServeArgs>),
    /// Replay scenarios against the bundled mock (default) or any server, and
    /// check every response against the spec and the scenario.
    #[command(after_help = "Examples:
  understudy run scenarios/                               # every bundled scenario, in-process mocks
  understudy run --target http://127.0.0.1:8080 scenarios/datallog
  understudy run --target waldur=http://staging:8000 --tag happy scenarios/
  understudy run --shard 2/4 --report junit=junit.xml --report json=run.json scenarios/

Exit codes: 0 all passed, 1 a check failed, 2 unusable input or unreachable target.")]
    Run(Box<RunArgs>),
    /// Run the same scenarios against two targets and report, step by step,
    /// where they differ in outcome, status, body shape and redacted content.
    #[command(
        after_help = "The left side is --target (default: the in-process mock); the right side is --against.

Examples:
  understudy diff --against waldur=http://staging:8000 scenarios/waldur    # mock vs staging
  understudy diff --target http://127.0.0.1:4010 --against http://127.0.0.1:5010 scenarios/mittwald

Exit codes: 0 no drift, 1 the sides differ, 2 unusable input or unreachable target."
    )]
    Diff(Box<DiffArgs>),
    /// Record traffic to a real service through a checking proxy, as a
    /// scenario with id captures and snapshots that `run` replays.
    #[command(after_help = "Examples:
  understudy record --upstream https://api.mittwald.de --api mittwald --name onboarding
  understudy record --upstream http://127.0.0.1:8000 --spec openapi.yaml --port 4020
  # then point your client at http://127.0.0.1:4020 and use it; Ctrl-C ends the recording

Secret headers (authorization, cookies, API keys, *token*) are never written:
the scenario reads them from RECORDED_<HEADER> environment variables.")]
    Record(Box<RecordArgs>),
    /// Measure the suite: run it against mutants of the mock, each broken in
    /// one way the contract forbids, and name the mutants no scenario notices.
    #[command(after_help = "Examples:
  understudy mutate scenarios/                        # every bundled API's suite
  understudy mutate --min-score 100 scenarios/        # fail CI when a mutant survives
  understudy mutate --spec api.yaml --fixture fixtures/api.yaml tests/scenarios
  understudy serve --mutant waldur/page-headers:projects_list   # try a survivor by hand

Exit codes: 0 score at least --min-score, 1 below it, 2 unusable input or a suite
that fails against the unmutated mock.")]
    Mutate(Box<MutateArgs>),
    /// Cut a spec out of a vendor's, as a recipe says: the operations it
    /// names, every component they reach, then the recipe's overlay.
    #[command(after_help = "Examples:
  understudy extract specs/waldur.recipe.yaml                # writes specs/waldur.json
  understudy extract --check specs/*.recipe.yaml             # exit 1 when a written spec differs

The vendor's files are third-party: keep them out of the repository and
pass their folder with --upstream.")]
    Extract(ExtractArgs),
    /// Review, accept or reject proposed snapshots (`.snap.new`), in any
    /// project: `cargo insta` works only inside a Rust package.
    #[command(after_help = "Examples:
  understudy snapshots list                    # what a run proposed, new or changed
  understudy snapshots review                  # each diff, then a accept, r reject, s skip, q quit
  understudy snapshots accept mittwald/        # every proposal whose path contains the text
  understudy snapshots reject

`run` reads INSTA_UPDATE as insta does: always (write in place, as --accept),
unseen (new ones in place), new (propose .snap.new, the default), no (write nothing).")]
    Snapshots(SnapshotsArgs),
    /// Write the fixture inferred from a spec (what `serve` does with no
    /// --fixture) as a file to start from, with comments saying why.
    #[command(after_help = "Examples:
  understudy init --spec openapi.yaml                          # print it
  understudy init --spec specs/shop.yaml --out fixtures/shop.yaml
  understudy serve --fixture fixtures/shop.yaml                # the same behaviour, now yours to edit")]
    Init(InitArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct InitArgs {
    /// The OpenAPI file to infer from.
    #[arg(long)]
    pub spec: PathBuf,
    /// Where to write the fixture (default: standard output); its `spec:`
    /// names the spec relative to it.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Overlays applied to the spec first (repeatable).
    #[arg(long = "overlay", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// Replace --out if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotsArgs {
    #[command(subcommand)]
    pub action: SnapshotAction,
}

#[derive(Subcommand, Debug, Clone)]
pub enum SnapshotAction {
    /// List the proposals, new or changed.
    List(SnapshotSelection),
    /// Show each proposal's diff and ask: accept, reject, skip or quit.
    Review(SnapshotSelection),
    /// Make every selected proposal the snapshot.
    Accept(SnapshotSelection),
    /// Delete every selected proposal; the snapshots stay as they were.
    Reject(SnapshotSelection),
}

#[derive(clap::Args, Debug, Clone)]
pub struct SnapshotSelection {
    /// Only proposals whose path contains this text.
    pub filter: Option<String>,
    /// The folder of snapshots.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: PathBuf,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ExtractArgs {
    /// Recipe files (`*.recipe.yaml`).
    #[arg(required = true)]
    pub recipes: Vec<PathBuf>,
    /// The folder holding the vendors' specs the recipes name.
    #[arg(long, default_value = "../shared/real-specs", value_name = "DIR")]
    pub upstream: PathBuf,
    /// Compare with the written spec instead of writing it.
    #[arg(long)]
    pub check: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct MutateArgs {
    /// Scenario files or folders.
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// One spec for every scenario, instead of their `api:`.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// The fixture for --spec.
    #[arg(long)]
    pub fixture: Option<PathBuf>,
    /// An OpenAPI Overlay applied to the spec before it is checked
    /// (repeatable; applied in order, before a fixture's own `overlays:`).
    #[arg(long = "overlay", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// Lowest acceptable share of killed mutants, in percent.
    #[arg(long, default_value_t = 0.0, value_name = "PERCENT")]
    pub min_score: f64,
    /// Mutants run at once.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Only the mutants whose id, as the report prints it, contains this
    /// text (`drop-field`, `waldur/page-headers:projects_list`); matching
    /// none is an error that lists them.
    #[arg(long, value_name = "TEXT")]
    pub only: Option<String>,
    /// The folder of snapshots the suite compares with.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: PathBuf,
    /// Also write the report as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

#[derive(clap::Args, Debug, Clone)]
pub struct RecordArgs {
    /// The service to record, e.g. https://api.example.com.
    #[arg(long)]
    pub upstream: String,
    /// The service's OpenAPI spec.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// A bundled API instead of --spec: mittwald, waldur or datallog.
    #[arg(long)]
    pub api: Option<String>,
    /// A fixture for --spec, whose generated fields are hidden in snapshots.
    #[arg(long)]
    pub fixture: Option<PathBuf>,
    /// An OpenAPI Overlay applied to the spec before it is checked
    /// (repeatable; applied in order, before a fixture's own `overlays:`).
    #[arg(long = "overlay", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// The folder the scenario is written to.
    #[arg(long, default_value = "scenarios/recorded", value_name = "DIR")]
    pub out: PathBuf,
    /// The scenario's name and file name (`DIR/NAME.yaml`).
    #[arg(long, default_value = "recording")]
    pub name: String,
    /// The folder of snapshots.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: PathBuf,
    #[arg(long, default_value_t = 4020)]
    pub port: u16,
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Time limit for the upstream's answer, a duration as `run` takes it
    /// (`30s`, `500ms`); a bare number is seconds.
    #[arg(long, default_value = "30s", value_name = "DURATION")]
    pub timeout: String,
    /// Write the credentials sent as fallbacks of their variables
    /// (`${env.RECORDED_AUTHORIZATION:-Token …}`), for a test server whose
    /// credentials are fixed and not secret; without it they are never written.
    #[arg(long)]
    pub write_credentials: bool,
    /// Largest upstream answer body read, in bytes; a longer one is
    /// answered with 502 and not recorded.
    #[arg(long, default_value_t = crate::runner::http::DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: usize,
    /// The fixture variables under which the mock answers as the recorded
    /// service does (written as the scenario's `mock_vars`), e.g.
    /// `--mock-var waldur_server=2024`.
    #[arg(long = "mock-var", value_name = "NAME=VALUE")]
    pub mock_vars: Vec<String>,
}

#[derive(clap::Args, Debug)]
pub struct DiffArgs {
    /// The right side: URL for every API, or NAME=URL for one (repeatable).
    #[arg(long = "against", value_name = "URL|NAME=URL", required = true)]
    pub against: Vec<crate::runner::TargetArg>,
    #[command(flatten)]
    pub run: RunArgs,
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// Scenario files or folders (searched for *.yaml, *.yml, *.json).
    #[arg(default_value = "scenarios")]
    pub paths: Vec<PathBuf>,
    /// The server to test: URL for every API, or NAME=URL for one. Without
    /// it, each API's mock runs in-process on an ephemeral port.
    #[arg(long = "target", value_name = "URL|NAME=URL")]
    pub targets: Vec<crate::runner::TargetArg>,
    /// Check every scenario against this spec (instead of the one each file names).
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// The fixture of the in-process mock of --spec.
    #[arg(long)]
    pub fixture: Option<PathBuf>,
    /// No resources inferred from the spec: with no --fixture the mock
    /// answers from the spec alone; with one, only what it names is stateful.
    #[arg(long)]
    pub stateless: bool,
    /// An OpenAPI Overlay applied to the spec before it is checked
    /// (repeatable; applied in order, before a fixture's own `overlays:`).
    #[arg(long = "overlay", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// Scenarios run at once.
    #[arg(long, default_value_t = 8)]
    pub jobs: usize,
    /// Run the i-th of n equal shares, e.g. `--shard 2/4`.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<crate::runner::Shard>,
    /// Only scenarios whose name or file contains this text.
    #[arg(long)]
    pub filter: Option<String>,
    /// Only scenarios with this tag (repeat for any of several).
    #[arg(long = "tag")]
    pub tags: Vec<String>,
    /// Leave out scenarios with this tag (repeatable), e.g. the documented
    /// behaviour a server's version lacks: `--skip-tag docs`.
    #[arg(long = "skip-tag", value_name = "TAG")]
    pub skip_tags: Vec<String>,
    /// Sets a scenario variable, e.g. `--var customer=…` (JSON or text).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Sets a fixture variable for every scenario's session on an
    /// understudy mock (over the scenarios' `mock_vars`), e.g.
    /// `--mock-var waldur_server=2024`.
    #[arg(long = "mock-var", value_name = "NAME=VALUE")]
    pub mock_vars: Vec<String>,
    /// Write a report: `junit=FILE`, `json=FILE` or `html=FILE` (one
    /// self-contained page); repeatable. `diff` writes `json` and `html`.
    #[arg(long = "report", value_name = "FORMAT=FILE")]
    pub reports: Vec<String>,
    /// Time limit per request.
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Time limit per scenario.
    #[arg(long, default_value = "120s")]
    pub scenario_timeout: String,
    /// Wait in real time in polls, even against a mock.
    #[arg(long)]
    pub real_time: bool,
    /// Largest answer body read, in bytes; a longer one fails its step
    /// and the rest is not read.
    #[arg(long, default_value_t = crate::runner::http::DEFAULT_MAX_BODY, value_name = "BYTES")]
    pub max_body: usize,
    /// The folder of snapshots, one folder per API inside.
    #[arg(long, default_value = "snapshots", value_name = "DIR")]
    pub snapshots: PathBuf,
    /// Write new and changed snapshots in place instead of as `.snap.new`.
    #[arg(long)]
    pub accept: bool,
    /// Colour: auto, always or never.
    #[arg(long, default_value = "auto")]
    pub color: String,
}

#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// OpenAPI file (YAML or JSON), as `serve openapi.yaml` or `--spec`.
    /// Without it, the bundled APIs are served.
    #[arg(long)]
    pub spec: Option<PathBuf>,
    /// The spec given by position, as `prism mock` takes it.
    #[arg(value_name = "SPEC", conflicts_with = "spec")]
    pub spec_file: Option<PathBuf>,
    /// Fixture file declaring the API's behaviour and error format.
    #[arg(long)]
    pub fixture: Option<PathBuf>,
    /// No resources inferred from the spec: with no --fixture answer from
    /// the spec alone (a create is not remembered); with one, the
    /// operations it does not name are answered from the spec alone.
    #[arg(long)]
    pub stateless: bool,
    /// An OpenAPI Overlay applied to the spec before it is checked
    /// (repeatable; applied in order, before a fixture's own `overlays:`).
    #[arg(long = "overlay", value_name = "FILE")]
    pub overlays: Vec<PathBuf>,
    /// Port of the first API; the bundled APIs use this and the next two.
    #[arg(long, default_value_t = 4010)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Do not answer CORS preflights or add CORS headers.
    #[arg(long)]
    pub no_cors: bool,
    /// No log: neither requests nor what was inferred from a spec at start.
    #[arg(long)]
    pub quiet: bool,
    /// Seed for generated response bodies and ids.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Overrides a fixture `vars` entry, e.g. `--var plan_limit=10` (JSON or text).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Do not reload the spec and fixture when they change on disk.
    #[arg(long)]
    pub no_reload: bool,
    /// Largest request body accepted, in bytes; larger ones get 413.
    #[arg(long, default_value_t = 10 * 1024 * 1024, value_name = "BYTES")]
    pub body_limit: usize,
    /// Most JSON values (objects, arrays, strings, numbers, literals) a
    /// request body may hold; more get 413 before the body is parsed.
    #[arg(long, default_value_t = crate::mock::options::DEFAULT_MAX_BODY_VALUES, value_name = "N")]
    pub max_body_values: usize,
    /// Time a client has to send its headers, and then its body (408).
    #[arg(long, default_value = "10s", value_name = "DURATION")]
    pub read_timeout: String,
    /// Connections served at once per API; more wait to be accepted.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Items one session may hold; a create past it is refused with 507.
    #[arg(long, default_value_t = 1_000_000, value_name = "N")]
    pub max_items: usize,
    /// Sessions kept per API; a new one past it drops the session idle
    /// longest (logged).
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    pub max_sessions: usize,
    /// Deleted keys remembered per collection and session, so a read of a
    /// deleted item is answered as deleted; past it (and after a restart)
    /// a deleted key counts as never stored.
    #[arg(long, default_value_t = crate::behaviour::store::DEFAULT_MAX_DELETED_KEYS, value_name = "N")]
    pub max_deleted_keys: usize,
    /// Build and check against the schema every answer, even a read of an
    /// item unchanged since its last answer (which is otherwise sent again
    /// as it was: built and checked once per version of the item).
    #[arg(long)]
    pub check_every_answer: bool,
    /// Memory for answers to requests repeated exactly (same method,
    /// target and headers) while the state does not change, sent again
    /// without running the request; past it the kept answers are
    /// dropped. 0 runs every request.
    #[arg(long, default_value_t = crate::mock::options::DEFAULT_REPEAT_CACHE, value_name = "BYTES")]
    pub repeat_cache: usize,
    /// Keep the mock's state in this file: restored at start, changes
    /// appended to its journal (FILE.journal.N) as they happen, the whole
    /// state written now and then and at shutdown.
    #[arg(long, value_name = "FILE")]
    pub state_file: Option<PathBuf>,
    /// Longest time a change waits before it is in the state file's
    /// journal; a crash loses at most this much. Ignored without
    /// --state-file.
    #[arg(long, default_value = "200ms", value_name = "DURATION")]
    pub state_flush: String,
    /// Serve a mutant: the mock broken in one way, as `understudy mutate`
    /// names it (`API/KIND:OPERATION[:DETAIL]`, or without `API/` for --spec).
    #[arg(long, value_name = "ID")]
    pub mutant: Option<String>,
    /// Chaos: answer STATUS for a share of requests (`500=5%`), or drop the
    /// connection unanswered (`reset=1%`). Repeatable.
    #[arg(long = "fault", value_name = "STATUS=PERCENT%")]
    pub faults: Vec<String>,
    /// Chaos: wait before every answer, a fixed time (`200ms`) or a random
    /// one in a range (`50ms..2s`).
    #[arg(long, value_name = "DURATION[..DURATION]")]
    pub latency: Option<String>,
    /// Refuse a spec with warnings (schemas that cannot be compiled, so
    /// nothing would be validated against them) instead of serving it.
    #[arg(long)]
    pub strict: bool,
}
