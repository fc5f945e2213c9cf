//! Tidy: the architecture and style rules of STYLE.md practice 17, checked by
//! plain `cargo test` (after rust-analyzer's `xtask/src/tidy.rs`).
//!
//! Each rule is its own test, and a failure lists every offending
//! `file:line` so one run shows all the work. Exceptions live in explicit
//! allowlist consts with a reason per entry; an entry that no longer matches
//! anything fails too, so the lists only shrink.
//!
//! Std only, plain text scanning. "Test code" is: a file under a crate's
//! `tests/` or `benches/`; a file declared as `#[cfg(test)] mod name;` (and
//! its submodules); and the tail of any file from its first line starting
//! with `#[cfg(test)]` (where the `mod tests` block sits by convention).
//! Comment lines (`//`, `///`, `//!`) are not code for the rules that look
//! for calls, so docs may name what they forbid.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// The only crates the pure core may depend on.
const CORE_DEPENDENCIES: &[&str] = &["serde", "thiserror", "toml"];

/// The one module that reads the clock; everything else is handed the time.
const CLOCK_MODULE: &str = "crates/switchyard-engine/src/clock.rs";

/// Ways to read the wall clock, a monotonic clock, or a clock-derived id.
const CLOCK_READS: &[&str] =
    &["chrono::Utc::now", "Utc::now(", "Local::now(", "SystemTime::now(", "Instant::now(", "Uuid::now_v7("];

/// Clock reads allowed outside the clock module: (file, call, reason). None
/// of them may reach a business decision or stored data.
const CLOCK_ALLOWLIST: &[(&str, &str, &str)] = &[
    // Measuring is the bench command's output: request latency and run length.
    ("crates/switchyard/src/bench.rs", "Instant::now(", "the load generator measures elapsed durations"),
    ("crates/switchyard/src/bench_channels.rs", "Instant::now(", "the channel benches measure elapsed durations"),
    // The stand-in stamps each request it receives, for the sync-lag bench.
    ("crates/switchyard-standin/src/lib.rs", "Instant::now(", "stamps received requests; decides nothing"),
    // Test support only (feature `testing`): unique names for throwaway databases.
    ("crates/switchyard-store/src/testing.rs", "Uuid::now_v7(", "names temporary test databases"),
];

/// The most lines a non-test source file may have.
const MAX_FILE_LINES: usize = 1000;

/// Non-test source files allowed over [`MAX_FILE_LINES`]: (file, reason).
/// Split them and delete the entry; nothing new is added here.
const LONG_FILE_ALLOWLIST: &[(&str, &str)] = &[];

/// The most characters (not bytes) on one line of Rust, as in rustfmt.toml.
const MAX_LINE_CHARS: usize = 120;

/// The crates whose code reads stored data: the non-test part of their
/// sources may not unwrap or default away data that does not parse.
const DATA_CRATE_SOURCES: &[&str] = &["crates/switchyard-store/src/", "crates/switchyard-engine/src/"];

/// Test support inside the data crates, exempt from the unwrap rule.
const DATA_TEST_SUPPORT: &[&str] = &["crates/switchyard-store/src/testing.rs"];

/// Calls that turn bad stored data into a panic or a silent default.
const UNWRAPS: &[&str] = &[".unwrap()", ".expect(", "unwrap_or_default()"];

/// Unwraps allowed in the data crates: (file, text on the line, reason).
/// Should stay empty or nearly: prefer an error that names the bad row.
const UNWRAP_ALLOWLIST: &[(&str, &str, &str)] = &[];

/// Where a file sits in its crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Place {
    /// Under `src/`, and not test-only.
    Src,
    /// Under `src/` but declared `#[cfg(test)] mod name;` (or inside such a module).
    SrcTestModule,
    /// Under `tests/`, `benches/`, `examples/`.
    TestsOrBenches,
    /// Anywhere else in a crate (e.g. `build.rs`).
    Other,
}

#[derive(Debug)]
struct RustFile {
    /// Relative to the workspace root, with `/` separators: `crates/x/src/lib.rs`.
    rel: String,
    place: Place,
    text: String,
}

impl RustFile {
    /// Lines before the first `#[cfg(test)]`, numbered from 1, without comment lines.
    fn code_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        non_test_lines(&self.text).filter(|(_, line)| !line.trim_start().starts_with("//"))
    }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `crates/`, sorted, read, and placed.
fn rust_files() -> Vec<RustFile> {
    let root = workspace_root();
    let mut paths = Vec::new();
    collect_rs(&root.join("crates"), &mut paths);
    let mut files: Vec<RustFile> = paths
        .into_iter()
        .map(|path| {
            let rel = relative(&root, &path);
            let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("tidy: cannot read {rel}: {e}"));
            RustFile { place: place_of(&rel), rel, text }
        })
        .collect();
    files.sort_by(|a, b| a.rel.cmp(&b.rel));

    // Files that `#[cfg(test)] mod name;` pulls in are test code, wherever they sit in src/.
    let mut test_modules = Vec::new();
    for file in files.iter().filter(|f| f.place == Place::Src) {
        test_modules.extend(test_module_paths(&file.rel, &file.text));
    }
    for file in &mut files {
        if file.place == Place::Src && test_modules.iter().any(|(rs, dir)| file.rel == *rs || is_under(&file.rel, dir))
        {
            file.place = Place::SrcTestModule;
        }
    }
    files
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries = fs::read_dir(dir).unwrap_or_else(|e| panic!("tidy: cannot list {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.unwrap_or_else(|e| panic!("tidy: cannot list {}: {e}", dir.display())).path();
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                collect_rs(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

fn relative(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/")
}

/// `crates/<crate>/<src|tests|benches|…>/…` → where the file sits.
fn place_of(rel: &str) -> Place {
    match rel.split('/').nth(2) {
        Some("src") => Place::Src,
        Some("tests" | "benches" | "examples") => Place::TestsOrBenches,
        _ => Place::Other,
    }
}

/// `a/b/c.rs` is under `a/b`, not under `a/bc`.
fn is_under(rel: &str, dir: &str) -> bool {
    rel.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

/// The lines of `text` before its first line starting with `#[cfg(test)]`, numbered from 1.
fn non_test_lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line))
        .take_while(|(_, line)| !line.trim_start().starts_with("#[cfg(test)]"))
}

/// For each `#[cfg(test)] mod name;` in the file at `rel`: (the module's
/// `.rs` file, the directory of the module and its submodules). The file may
/// be `dir/name.rs` or `dir/name/mod.rs`; both lie in or under the pair.
fn test_module_paths(rel: &str, text: &str) -> Vec<(String, String)> {
    let (parent, file_name) = rel.rsplit_once('/').unwrap_or(("", rel));
    // `lib.rs`, `main.rs` and `mod.rs` own their directory; `foo.rs` owns `foo/`.
    let module_dir = match file_name {
        "lib.rs" | "main.rs" | "mod.rs" => parent.to_owned(),
        _ => format!("{parent}/{}", file_name.trim_end_matches(".rs")),
    };
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !line.starts_with("#[cfg(test)]") {
            continue;
        }
        // The item the attribute applies to: the next line that is not blank or another attribute.
        let item = lines[i + 1..].iter().find(|l| !l.is_empty() && !l.starts_with("#["));
        // `mod name;` or `pub(crate) mod name;`, not `mod name { … }`.
        let Some((visibility, name)) = item.and_then(|l| l.strip_suffix(';')).and_then(|l| l.split_once("mod ")) else {
            continue;
        };
        let name = name.trim();
        let is_name = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_');
        if is_name && (visibility.is_empty() || visibility.starts_with("pub")) {
            found.push((format!("{module_dir}/{name}.rs"), format!("{module_dir}/{name}")));
        }
    }
    found
}

/// The dependency names in the `[dependencies]` section of a Cargo.toml,
/// including `[dependencies.name]` tables and target-specific dependencies.
fn dependency_names(cargo_toml: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut in_dependencies = false;
    for line in cargo_toml.lines().map(str::trim) {
        if line.starts_with('[') {
            let header = line.trim_start_matches('[').trim_end_matches(']').trim();
            // `[target.'cfg(unix)'.dependencies]` counts as much as `[dependencies]`.
            let header = header
                .strip_prefix("target.")
                .map_or(header, |rest| rest.find(".dependencies").map_or(header, |at| &rest[at + 1..]));
            in_dependencies = header == "dependencies";
            if let Some(name) = header.strip_prefix("dependencies.") {
                names.insert(name.trim().trim_matches('"').to_owned());
            }
            continue;
        }
        if !in_dependencies || line.is_empty() || line.starts_with('#') {
            continue;
        }
        // `name = "1"`, `name = { … }`, `name.workspace = true`.
        let name = line.split(['=', '.']).next().unwrap_or_default().trim().trim_matches('"');
        if !name.is_empty() {
            names.insert(name.to_owned());
        }
    }
    names
}

/// Fails with every offender listed under the rule and why it exists.
fn report(rule: &str, why: &str, offenders: &[String]) {
    assert!(offenders.is_empty(), "\n\ntidy: {rule}\n{why}\n\n  {}\n\n", offenders.join("\n  "));
}

#[test]
fn core_dependencies_are_fixed() {
    let path = workspace_root().join("crates/switchyard-core/Cargo.toml");
    let toml = fs::read_to_string(&path).unwrap_or_else(|e| panic!("tidy: cannot read {}: {e}", path.display()));
    let found = dependency_names(&toml);
    let allowed: BTreeSet<String> = CORE_DEPENDENCIES.iter().map(|s| s.to_string()).collect();
    let mut offenders: Vec<String> =
        found.difference(&allowed).map(|d| format!("crates/switchyard-core/Cargo.toml: added `{d}`")).collect();
    offenders.extend(allowed.difference(&found).map(|d| format!("crates/switchyard-core/Cargo.toml: removed `{d}`")));
    report(
        "core_dependencies_are_fixed",
        "switchyard-core is pure (no IO, no async, no clock). Adding or removing a dependency \
         needs CORE_DEPENDENCIES in crates/switchyard/tests/tidy.rs changed on purpose.",
        &offenders,
    );
}

#[test]
fn nothing_reads_the_clock_outside_the_clock_module() {
    let mut offenders = Vec::new();
    let mut used = BTreeSet::new();
    for file in rust_files().iter().filter(|f| f.place == Place::Src && f.rel != CLOCK_MODULE) {
        for (n, line) in file.code_lines() {
            let Some(call) = CLOCK_READS.iter().find(|c| line.contains(*c)) else { continue };
            let allowed = CLOCK_ALLOWLIST.iter().position(|(f, c, _)| *f == file.rel && line.contains(c));
            match allowed {
                Some(i) => {
                    used.insert(i);
                }
                None => offenders.push(format!("{}:{n}: `{call}`: {}", file.rel, line.trim())),
            }
        }
    }
    for (i, (file, call, _)) in CLOCK_ALLOWLIST.iter().enumerate() {
        if !used.contains(&i) {
            offenders.push(format!("{file}: no `{call}` any more: remove it from CLOCK_ALLOWLIST"));
        }
    }
    report(
        "nothing_reads_the_clock_outside_the_clock_module",
        &format!(
            "Read the time only in {CLOCK_MODULE} and pass it in, so decisions are testable with a \
             fake clock. Measuring elapsed time that decides nothing goes in CLOCK_ALLOWLIST with a reason."
        ),
        &offenders,
    );
}

#[test]
fn source_files_stay_under_1000_lines() {
    let files = rust_files();
    let mut offenders = Vec::new();
    for file in files.iter().filter(|f| f.place == Place::Src) {
        let lines = file.text.lines().count();
        let allowlisted = LONG_FILE_ALLOWLIST.iter().any(|(f, _)| *f == file.rel);
        if lines > MAX_FILE_LINES && !allowlisted {
            offenders.push(format!("{}: {lines} lines", file.rel));
        }
        if lines <= MAX_FILE_LINES && allowlisted {
            offenders.push(format!("{}: {lines} lines now: remove it from LONG_FILE_ALLOWLIST", file.rel));
        }
    }
    for (allowlisted, _) in LONG_FILE_ALLOWLIST {
        if !files.iter().any(|f| f.rel == *allowlisted && f.place == Place::Src) {
            offenders.push(format!("{allowlisted}: no such source file: remove it from LONG_FILE_ALLOWLIST"));
        }
    }
    report(
        "source_files_stay_under_1000_lines",
        &format!("A non-test source file has at most {MAX_FILE_LINES} lines: split it by responsibility."),
        &offenders,
    );
}

#[test]
fn no_line_over_120_characters() {
    let mut offenders = Vec::new();
    for file in &rust_files() {
        for (i, line) in file.text.lines().enumerate() {
            let chars = line.chars().count();
            if chars > MAX_LINE_CHARS {
                offenders.push(format!("{}:{}: {chars} characters", file.rel, i + 1));
            }
        }
    }
    report(
        "no_line_over_120_characters",
        &format!("Lines of Rust have at most {MAX_LINE_CHARS} characters (rustfmt.toml max_width)."),
        &offenders,
    );
}

#[test]
fn no_unwrap_on_database_data() {
    let mut offenders = Vec::new();
    let mut used = BTreeSet::new();
    let files = rust_files();
    let data_files = files.iter().filter(|f| {
        f.place == Place::Src
            && DATA_CRATE_SOURCES.iter().any(|dir| f.rel.starts_with(dir))
            && !DATA_TEST_SUPPORT.contains(&f.rel.as_str())
    });
    for file in data_files {
        for (n, line) in file.code_lines() {
            let Some(call) = UNWRAPS.iter().find(|c| line.contains(*c)) else { continue };
            let allowed = UNWRAP_ALLOWLIST.iter().position(|(f, text, _)| *f == file.rel && line.contains(text));
            match allowed {
                Some(i) => {
                    used.insert(i);
                }
                None => offenders.push(format!("{}:{n}: `{call}`: {}", file.rel, line.trim())),
            }
        }
    }
    for (i, (file, text, _)) in UNWRAP_ALLOWLIST.iter().enumerate() {
        if !used.contains(&i) {
            offenders.push(format!("{file}: no line with `{text}` any more: remove it from UNWRAP_ALLOWLIST"));
        }
    }
    report(
        "no_unwrap_on_database_data",
        "Stored data that does not parse must become an error naming the row (e.g. StoreError::corrupt), \
         never a panic or a silent default.",
        &offenders,
    );
}

/// The checks above pass vacuously if the walker finds nothing: make sure it does.
#[test]
fn tidy_walks_the_whole_workspace() {
    let files = rust_files();
    let src = files.iter().filter(|f| f.place == Place::Src).count();
    assert!(src > 20, "tidy: only {src} non-test source files found under {}", workspace_root().display());
    let rel = |r: &str| files.iter().find(|f| f.rel == r);
    assert_eq!(rel("crates/switchyard-core/src/lib.rs").map(|f| f.place), Some(Place::Src));
    assert_eq!(rel("crates/switchyard/tests/tidy.rs").map(|f| f.place), Some(Place::TestsOrBenches));
}

#[test]
fn tidy_helpers_find_the_test_parts() {
    let text = "//! doc\nfn a() {}\n\n#[cfg(test)]\nmod tests {\n    fn t() { x.unwrap(); }\n}\n";
    let kept: Vec<(usize, &str)> = non_test_lines(text).collect();
    assert_eq!(kept, vec![(1, "//! doc"), (2, "fn a() {}"), (3, "")]);

    let text = "mod a;\n#[cfg(test)]\nmod tests;\n#[cfg(test)]\n#[allow(dead_code)]\npub(crate) mod helpers;\n";
    let expected = |dir: &str, name: &str| (format!("{dir}/{name}.rs"), format!("{dir}/{name}"));
    assert_eq!(
        test_module_paths("crates/c/src/routing/mod.rs", text),
        vec![expected("crates/c/src/routing", "tests"), expected("crates/c/src/routing", "helpers")]
    );
    assert_eq!(test_module_paths("crates/c/src/stock.rs", text)[0], expected("crates/c/src/stock", "tests"));
    assert!(test_module_paths("crates/c/src/lib.rs", "#[cfg(test)]\nmod tests {\n}\n").is_empty());
    assert!(is_under("crates/c/src/routing/tests/more.rs", "crates/c/src/routing/tests"));
    assert!(!is_under("crates/c/src/routing/testsuite.rs", "crates/c/src/routing/tests"));

    let toml = "[package]\nname = \"x\"\n\n[dependencies]\nserde.workspace = true\n# why\ntoml = \"0.8\"\n\
                thiserror = { workspace = true }\n\n[dev-dependencies]\nproptest = \"1\"\n\n\
                [dependencies.chrono]\nversion = \"0.4\"\n[target.'cfg(unix)'.dependencies]\nlibc = \"0.2\"\n";
    let names: Vec<String> = dependency_names(toml).into_iter().collect();
    assert_eq!(names, ["chrono", "libc", "serde", "thiserror", "toml"]);
}
