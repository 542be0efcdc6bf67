use clap::Parser;

fn main() {
    if let Err(e) = crm_api::cli::run(crm_api::cli::Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
