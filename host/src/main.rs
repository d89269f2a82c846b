//! The `nestbox` binary: everything lives in the library; see `nestbox --help`.

fn main() -> std::process::ExitCode {
    nestbox::cli::main()
}
