//! The `quire` binary.

fn main() -> std::process::ExitCode {
    quire_api::cli::main()
}
