//! `understudy init`: the fixture inference makes of a spec, written as a
//! file to start from (or printed), with comments saying what was
//! inferred from which part of the spec.

use super::args::InitArgs;
use super::common::{EXIT_UNUSABLE, render_error};
use crate::behaviour::infer;
use crate::mock::reload::Sources;
use std::path::Path;

pub fn init_command(args: InitArgs) -> i32 {
    let (_, api, _) = match Sources::open(Some(args.spec.clone()), None, &args.overlays, true) {
        Ok(loaded) => loaded,
        Err(e) => {
            eprint!("{}", render_error(&e, e.location().as_ref()));
            return EXIT_UNUSABLE;
        }
    };
    let name = args.spec.file_name().map_or_else(
        || args.spec.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let inference = infer::checked(&api, &name);
    // The fixture names its spec relative to itself, as `spec:` is read.
    let spec_line = match &args.out {
        Some(out) => super::common::relative_to(&args.spec, out.parent().unwrap_or(Path::new(""))),
        None => args.spec.clone(),
    };
    let text = infer::render(&inference, Some(&spec_line.to_string_lossy()), &name);
    for resource in &inference.resources {
        eprintln!("inferred {}", resource.summary());
    }
    if !inference.stateless.is_empty() {
        eprintln!(
            "{} operation(s) left to the spec alone; the file's last comment lists them",
            inference.stateless.len()
        );
    }
    let Some(out) = &args.out else {
        print!("{text}");
        return 0;
    };
    if out.exists() && !args.force {
        eprintln!(
            "error: {} exists; --force replaces it (your edits to it would be lost)",
            out.display()
        );
        return EXIT_UNUSABLE;
    }
    if let Some(folder) = out.parent().filter(|f| !f.as_os_str().is_empty())
        && let Err(e) = std::fs::create_dir_all(folder)
    {
        eprintln!("error: cannot make {}: {e}", folder.display());
        return EXIT_UNUSABLE;
    }
    if let Err(e) = crate::source::atomic_file::write(out, text.as_bytes()) {
        eprintln!("error: cannot write {}: {e}", out.display());
        return EXIT_UNUSABLE;
    }
    eprintln!(
        "wrote {}; serve it with: understudy serve --fixture {}",
        out.display(),
        out.display()
    );
    0
}
