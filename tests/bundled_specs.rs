//! The bundled specs are faithful extracts: each is exactly what its recipe
//! makes of the vendor's published spec (`../shared/real-specs`) and the
//! recipe's overlay, and every change the overlay makes says why.

use std::path::{Path, PathBuf};
use understudy::spec::recipe::Recipe;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn recipes() -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = std::fs::read_dir(root().join("specs"))
        .expect("specs/")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(".recipe.yaml"))
        .collect();
    found.sort();
    found
}

#[test]
fn every_overlay_action_gives_its_reason() {
    let all = recipes();
    assert!(!all.is_empty(), "no recipes in specs/");
    for path in all {
        let recipe = Recipe::load(&path).expect("the recipe loads");
        let Some(overlay) = recipe.load_overlay().expect("the overlay loads") else {
            continue;
        };
        let undescribed = overlay.undescribed();
        assert!(
            undescribed.is_empty(),
            "{}: actions without a description at {undescribed:?}",
            overlay.path().display()
        );
    }
}

#[test]
fn each_bundled_spec_is_its_vendor_spec_plus_the_overlay() {
    let upstream = root().join("../shared/real-specs");
    for path in recipes() {
        let recipe = Recipe::load(&path).expect("the recipe loads");
        if !recipe.upstream_path(&upstream).exists() {
            eprintln!(
                "notice: {} is absent; skipping the check of {}",
                recipe.upstream_path(&upstream).display(),
                path.display()
            );
            continue;
        }
        let made = recipe.build(&upstream).expect("the recipe builds");
        let written = std::fs::read_to_string(&recipe.output).expect("the written spec");
        assert!(
            Recipe::render(&made) == written,
            "{} is not what {} makes of {}: run `understudy extract {}`",
            recipe.output.display(),
            path.display(),
            recipe.upstream,
            relative(&path)
        );
    }
}

fn relative(path: &Path) -> String {
    path.strip_prefix(root())
        .unwrap_or(path)
        .display()
        .to_string()
}
