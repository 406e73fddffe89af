//! Rebuilds the crate when anything under `assets/` changes, including files that were added
//! (rust-embed only tracks the files that existed at the last build).

fn main() {
    println!("cargo:rerun-if-changed=assets");
}
