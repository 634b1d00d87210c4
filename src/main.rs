// mimalloc: a mock request makes a few hundred small allocations, and with
// glibc's allocator they were a quarter of the instructions (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(understudy::cli::main());
}
