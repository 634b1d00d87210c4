//! Live heap bytes after each stage of loading and compiling one spec:
//! `cargo run --release --example spec_memory -- SPEC`. Counts what the
//! program asked the allocator for (not RSS, which the allocator's own
//! retention blurs), so a change to one stage shows as that stage's figure.

use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The system allocator, counting the bytes that are live.
struct Counting;

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(new_size, Ordering::Relaxed);
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn report(stage: &str) {
    let mb = LIVE.load(Ordering::Relaxed) as f64 / 1_048_576.0;
    println!("{stage:<28} {mb:>7.1} MB live");
}

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: spec_memory SPEC");
        std::process::exit(2);
    };
    let path = Path::new(&path);
    let document = match understudy::source::SourceDocument::read(path) {
        Ok(document) => document,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    report("parsed file (value + text)");
    drop(document);
    let api = match understudy::spec::Api::load(path) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    report("loaded spec");
    let first_of = |direction: understudy::spec::Direction| {
        api.operations.iter().find_map(|op| {
            let body = op.request_body.iter().flat_map(|b| &b.media);
            let answers = op.responses.iter().flat_map(|r| &r.media);
            body.chain(answers)
                .filter_map(|m| m.schema.as_ref())
                .find(|slot| slot.direction() == direction)
        })
    };
    for (direction, stage) in [
        (
            understudy::spec::Direction::Request,
            "+ request schemas compiled",
        ),
        (
            understudy::spec::Direction::Response,
            "+ response schemas compiled",
        ),
    ] {
        if let Some(slot) = first_of(direction) {
            let _ = api.compiled(slot);
        }
        report(stage);
    }
}
