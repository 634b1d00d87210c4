//! `understudy serve`: load what is served, check the flags against it,
//! then run the mock servers until Ctrl-C (hot reload and the state file
//! alongside).

use super::args::ServeArgs;
use super::common::{
    EXIT_UNUSABLE, describe_reload, duration_flag, parse_var, render_error, runtime,
};
use crate::behaviour::bundled::BUNDLED;
use crate::behaviour::store::StoreLimits;
use crate::mock::MockOptions;
use crate::mock::fault::{Chaos, Fault};
use crate::mock::reload::Sources;
use crate::mock::serve::{Event, ServeError, Served, Settings, serve};
use std::sync::Arc;
use std::time::{Duration, Instant};

pub fn serve_command(args: ServeArgs) -> i32 {
    let started = Instant::now();
    let served = match load_served(&args).and_then(|served| with_vars(served, &args.vars)) {
        Ok(s) => s,
        Err(message) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    let read_timeout = match duration_flag("read-timeout", &args.read_timeout) {
        Ok(timeout) if !timeout.is_zero() => timeout,
        Ok(_) => {
            eprintln!(
                "error: `--read-timeout {}`: at least 1ms\n",
                args.read_timeout
            );
            return EXIT_UNUSABLE;
        }
        Err(message) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    if args.max_connections == 0
        || args.body_limit == 0
        || args.max_body_values == 0
        || args.max_items == 0
        || args.max_sessions == 0
    {
        eprintln!(
            "error: --max-connections, --body-limit, --max-body-values, --max-items and --max-sessions are at least 1\n"
        );
        return EXIT_UNUSABLE;
    }
    let Some(runtime) = runtime() else {
        return EXIT_UNUSABLE;
    };
    let (chaos, mutant) = match chaos_and_mutant(&args, &served) {
        Ok(found) => found,
        Err(message) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    // Warnings are located while the start goes on, and said before `ready`.
    let warnings: Vec<_> = served.iter().map(|s| s.api.warnings.clone()).collect();
    let mut served = served;
    if let Some((label, fault)) = &mutant {
        for s in served.iter_mut().filter(|s| &s.label == label) {
            fault.apply_to_fixture(&mut s.fixture);
            // A reload would bring back the fixture without the fault.
            s.sources = None;
        }
    }
    let state_flush = match args
        .state_file
        .as_ref()
        .map(|_| duration_flag("state-flush", &args.state_flush))
    {
        None => None,
        Some(Ok(flush)) => Some(flush),
        Some(Err(message)) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    // Modes that break answers on purpose, said before `ready` so that no
    // one mistakes them for the API's behaviour.
    let mut modes = Vec::new();
    if !chaos.is_off() {
        modes.push(format!(
            "chaos: {} (--fault, --latency); the admin API is spared",
            chaos.describe()
        ));
    }
    if let Some((label, fault)) = &mutant {
        modes.push(format!(
            "mutant: {label}/{} ({}); {label}'s answers break the contract on purpose",
            fault.id(),
            fault.describe()
        ));
    }
    let settings = Settings {
        host: args.host.clone(),
        options: MockOptions {
            cors: !args.no_cors,
            quiet: args.quiet,
            seed: args.seed,
            body_limit: args.body_limit,
            max_body_values: args.max_body_values,
            read_timeout,
            max_connections: args.max_connections,
            chaos,
            limits: StoreLimits {
                max_items: args.max_items,
                max_sessions: args.max_sessions,
                max_deleted_keys: args.max_deleted_keys,
                check_every_answer: args.check_every_answer,
                ..StoreLimits::default()
            },
            repeat_cache: args.repeat_cache,
            ..MockOptions::default()
        },
        mutant,
        state: args.state_file.clone().zip(state_flush),
        reload: (!args.no_reload).then_some(Duration::from_millis(500)),
    };
    let on: Arc<dyn Fn(Event<'_>) + Send + Sync> = Arc::new(move |event| match event {
        Event::Serving { apis } => println!(
            "understudy serving {apis} API{}:",
            if apis == 1 { "" } else { "s" }
        ),
        Event::Listening {
            label,
            url,
            source,
            operations,
        } => println!(
            "  {label:<10} {url:<24} {source} ({operations} operation{})",
            if operations == 1 { "" } else { "s" }
        ),
        Event::StateRestored { path, sessions } => println!(
            "state in {} ({sessions} session(s) restored)",
            path.display()
        ),
        Event::Ready => {
            for warning in warnings.iter().flat_map(|w| w.get()) {
                eprint!(
                    "{}",
                    crate::source::diagnostic::warning(&warning.to_string(), &warning.location())
                );
            }
            for mode in &modes {
                println!("{mode}");
            }
            println!(
                "ready in {} ms; Ctrl-C to stop",
                started.elapsed().as_millis()
            )
        }
        Event::Reload { label, event } => eprintln!("{}", describe_reload(label, event)),
        Event::Stopped => eprintln!("stopped"),
    });
    // The handlers are in place before a port opens: a SIGTERM sent as
    // soon as the mock answers stops it cleanly, state saved.
    let stop = {
        let _context = runtime.enter();
        stop_signal()
    };
    match runtime.block_on(serve(served, settings, stop, on)) {
        Ok(()) => 0,
        Err(ServeError::State(error)) => {
            eprint!("error: {error}\n  (fix it, or move it away to start from the seed data)\n");
            EXIT_UNUSABLE
        }
        Err(error) => {
            eprintln!("error: {error}");
            EXIT_UNUSABLE
        }
    }
}

/// Ctrl-C, or SIGTERM (what service managers and `docker stop` send),
/// listened for from the call on (inside the runtime's context), not from
/// the first poll.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let listening = signal(SignalKind::terminate()).and_then(|terminate| {
            signal(SignalKind::interrupt()).map(|interrupt| (terminate, interrupt))
        });
        async move {
            match listening {
                Ok((mut terminate, mut interrupt)) => {
                    tokio::select! {
                        _ = interrupt.recv() => {}
                        _ = terminate.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Applies `--var NAME=VALUE` to every served fixture.
fn with_vars(mut served: Vec<Served>, vars: &[String]) -> Result<Vec<Served>, String> {
    for var in vars {
        let (name, value) = parse_var(var)?;
        for s in &mut served {
            s.fixture.model.vars.insert(name.clone(), value.clone());
            if let Some(sources) = &mut s.sources {
                sources.vars.push((name.clone(), value.clone()));
            }
        }
    }
    Ok(served)
}

/// `--fault`, `--latency` and `--mutant`, checked against what is served.
fn chaos_and_mutant(
    args: &ServeArgs,
    served: &[Served],
) -> Result<(Chaos, Option<(String, Fault)>), String> {
    let mut chaos = Chaos::default();
    for fault in &args.faults {
        chaos
            .add_fault(fault)
            .map_err(|e| format!("error: {e}\n"))?;
    }
    if let Some(text) = &args.latency {
        let (low, high) = text.split_once("..").unwrap_or((text, text));
        let low = duration_flag("latency", low)?;
        let high = duration_flag("latency", high)?;
        if high < low {
            return Err(format!(
                "error: `--latency {text}`: the range is backwards\n"
            ));
        }
        chaos.latency = Some((low, high));
    }
    let Some(text) = &args.mutant else {
        return Ok((chaos, None));
    };
    let (label, id) = match text.split_once('/') {
        Some((label, id)) => (label.to_string(), id),
        None if served.len() == 1 => (served[0].label.clone(), text.as_str()),
        None => {
            return Err(format!(
                "error: `--mutant {text}`: say which API, e.g. --mutant mittwald/{text}\n"
            ));
        }
    };
    let fault = Fault::parse(id).map_err(|e| format!("error: --mutant {e}\n"))?;
    let Some(s) = served.iter().find(|s| s.label == label) else {
        let labels: Vec<&str> = served.iter().map(|s| s.label.as_str()).collect();
        return Err(format!(
            "error: `--mutant {text}`: no API `{label}` is served (served: {})\n",
            labels.join(", ")
        ));
    };
    let known = match &fault {
        Fault::NoUnique { collection } | Fault::NeverReady { collection } => {
            s.fixture.model.collection(collection).is_some()
        }
        Fault::NoAuth => true,
        other => other
            .subject()
            .is_some_and(|op| s.api.operations.iter().any(|o| o.id == op)),
    };
    if !known {
        return Err(format!(
            "error: `--mutant {text}`: `{}` is no operation or collection of {label}\n",
            fault.subject().unwrap_or_default()
        ));
    }
    Ok((chaos, Some((label, fault))))
}

fn load_served(args: &ServeArgs) -> Result<Vec<Served>, String> {
    if args.spec.is_none() && args.fixture.is_none() {
        let mut served = Vec::new();
        for (i, bundled) in BUNDLED.iter().enumerate() {
            let (api, fixture) = bundled
                .load()
                .map_err(|e| format!("error: bundled API {}: {e}\n", bundled.name))?;
            served.push(Served {
                label: bundled.name.to_string(),
                api,
                fixture,
                port: args.port.saturating_add(i as u16),
                // Embedded in the binary: no file is read, wherever it runs.
                source: format!("bundled {}", bundled.spec_path),
                sources: None,
            });
        }
        return Ok(served);
    }
    let (sources, api, fixture) = Sources::open(
        args.spec.clone(),
        args.fixture.clone(),
        &args.overlays,
        args.stateless,
    )
    .map_err(|e| render_error(&e, e.location().as_ref()))?;
    if let Some(first) = api.warnings.get().first().filter(|_| args.strict) {
        return Err(format!(
            "{}  (refused by --strict; {} such problem(s) in all)\n",
            crate::source::diagnostic::render(&first.to_string(), &first.location()),
            api.warnings.get().len()
        ));
    }
    let spec_path = sources.spec.clone();
    let label = spec_path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "api".into());
    // What inference made of a spec served without a fixture: a log line
    // like any other, so `--quiet` keeps it out too.
    if !args.quiet {
        for line in &fixture.inferred {
            crate::mock::log::event(&label, line);
        }
    }
    Ok(vec![Served {
        label,
        api,
        fixture,
        port: args.port,
        source: spec_path.display().to_string(),
        sources: Some(sources),
    }])
}
