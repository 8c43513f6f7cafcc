//! Generates the contracts from proto/kaiku with a vendored protoc, so a fresh machine needs no
//! protoc install ($PROTOC still overrides).

use std::path::PathBuf;

const PROTOS: &[&str] = &[
    "kaiku/survey/v1/model.proto",
    "kaiku/survey/v1/survey_service.proto",
    "kaiku/intake/v1/intake.proto",
    "kaiku/analytics/v1/analytics.proto",
    "kaiku/events/v1/events.proto",
    "kaiku/handling/v1/handling.proto",
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    if std::env::var_os("PROTOC").is_none() {
        let protoc = protoc_bin_vendored::protoc_bin_path()?;
        // The build script is single-threaded, so setting the variable races with nothing.
        unsafe_set_protoc(protoc);
    }
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("..");
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let files: Vec<PathBuf> = PROTOS.iter().map(|p| root.join(p)).collect();
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    tonic_prost_build::configure()
        .file_descriptor_set_path(out.join("kaiku_descriptor.bin"))
        .compile_protos(&files, &[root])?;
    Ok(())
}

#[allow(unsafe_code)]
fn unsafe_set_protoc(path: PathBuf) {
    // SAFETY: build scripts run single-threaded; nothing else reads the environment concurrently.
    unsafe { std::env::set_var("PROTOC", path) };
}
