fn main() {
    std::process::exit(understudy::cli::main());
}
