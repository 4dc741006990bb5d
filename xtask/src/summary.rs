//! Runs `cargo test` with its output passed through as it comes, and keeps score per test binary,
//! so the end of a long run says which suites failed instead of leaving that to a scroll back.

use std::io::{BufRead, BufReader};
use std::process::Command;

use anyhow::Context;

/// One test binary (a crate's unit tests, one file of `tests/`, or a crate's doc tests).
#[derive(Debug, Default, PartialEq)]
struct Suite {
    /// How cargo named it: `tests/tasks.rs (target/debug/deps/tasks-…)` or `Doc-tests domain`.
    name: String,
    passed: u64,
    failed: u64,
    ignored: u64,
    /// Whether its `test result:` line was seen (a binary that crashed never prints one).
    finished: bool,
}

/// What one `cargo test` run did.
#[derive(Debug, Default)]
pub struct Summary {
    suites: Vec<Suite>,
    /// The selectors cargo printed for binaries that failed (`-p e2e --test browser`).
    reruns: Vec<String>,
    /// Whether cargo itself exited successfully.
    success: bool,
}

/// Runs `cargo` (a `cargo test` command), echoing everything it prints.
pub fn run(mut cargo: Command) -> anyhow::Result<Summary> {
    let (reader, writer) = std::io::pipe().context("creating a pipe for cargo's output")?;
    cargo.stdout(writer.try_clone()?).stderr(writer);
    let mut child = cargo.spawn().context("starting cargo")?;
    // The command holds the pipe's write ends; drop it so the reader sees the end.
    drop(cargo);
    let mut summary = Summary::default();
    for line in BufReader::new(reader).lines() {
        let line = line.context("reading cargo's output")?;
        println!("{line}");
        summary.read(&line);
    }
    summary.success = child.wait().context("waiting for cargo")?.success();
    Ok(summary)
}

impl Summary {
    /// Takes in one line of cargo's output.
    fn read(&mut self, line: &str) {
        let trimmed = line.trim();
        if let Some(name) = trimmed
            .strip_prefix("Running ")
            .or_else(|| trimmed.starts_with("Doc-tests ").then_some(trimmed))
        {
            self.suites.push(Suite {
                name: name.to_owned(),
                ..Suite::default()
            });
        } else if let Some(result) = trimmed.strip_prefix("test result: ") {
            if let Some(suite) = self.suites.last_mut() {
                suite.passed = count(result, "passed");
                suite.failed = count(result, "failed");
                suite.ignored = count(result, "ignored");
                suite.finished = true;
            }
        } else if let Some(rest) = trimmed.strip_prefix("error: test failed, to rerun pass `") {
            self.reruns.push(rest.trim_end_matches('`').to_owned());
        }
    }

    /// Whether cargo succeeded and every suite that started finished without a failure.
    pub fn passed(&self) -> bool {
        self.success && self.suites.iter().all(|s| s.finished && s.failed == 0)
    }

    /// Prints the score: totals, then each suite that failed or never finished.
    pub fn print(&self) {
        let total = |field: fn(&Suite) -> u64| self.suites.iter().map(field).sum::<u64>();
        let (passed, failed, ignored) = (
            total(|s| s.passed),
            total(|s| s.failed),
            total(|s| s.ignored),
        );
        println!();
        println!(
            "xtask: test suites run: {}; tests: {passed} passed, {failed} failed, {ignored} ignored",
            self.suites.len()
        );
        let broken: Vec<&Suite> = self
            .suites
            .iter()
            .filter(|s| !s.finished || s.failed > 0)
            .collect();
        for suite in &broken {
            if suite.finished {
                println!("xtask: FAILED {} ({} failed)", suite.name, suite.failed);
            } else {
                println!("xtask: FAILED {} (stopped before its result)", suite.name);
            }
        }
        for rerun in &self.reruns {
            println!("xtask: rerun with: cargo test {rerun}");
        }
        if broken.is_empty() && !self.success {
            println!("xtask: cargo test failed before running every suite (see above)");
        }
        println!("summary: {passed} passed, {failed} failed");
    }
}

/// The number before `word` in a `test result:` line (`ok. 3 passed; 0 failed; ...`).
fn count(result: &str, word: &str) -> u64 {
    result
        .split([';', '.'])
        .filter_map(|part| part.trim().strip_suffix(word))
        .find_map(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary_of(output: &str, success: bool) -> Summary {
        let mut summary = Summary::default();
        for line in output.lines() {
            summary.read(line);
        }
        summary.success = success;
        summary
    }

    #[test]
    fn a_clean_run_passes_and_is_counted_per_suite() {
        let summary = summary_of(
            "     Running unittests src/lib.rs (target/debug/deps/domain-1a2b)\n\
             test result: ok. 134 passed; 0 failed; 2 ignored; 0 measured; 0 filtered out; finished in 0.52s\n\
             \x20  Doc-tests domain\n\
             test result: ok. 3 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s\n",
            true,
        );
        assert!(summary.passed());
        assert_eq!(summary.suites.len(), 2);
        assert_eq!(summary.suites[0].passed, 134);
        assert_eq!(summary.suites[0].ignored, 2);
        assert_eq!(summary.suites[1].name, "Doc-tests domain");
    }

    #[test]
    fn a_failed_suite_and_one_that_crashed_are_both_named() {
        let summary = summary_of(
            "     Running tests/tooling.rs (target/debug/deps/tooling-9f)\n\
             test result: FAILED. 4 passed; 2 failed; 0 ignored; 0 measured; 0 filtered out; finished in 1.0s\n\
             error: test failed, to rerun pass `-p deploy-check --test tooling`\n\
             \x20    Running tests/events.rs (target/debug/deps/events-77)\n\
             error: test failed, to rerun pass `-p e2e --test events`\n\
             \x20    Running tests/tasks.rs (target/debug/deps/tasks-12)\n\
             test result: ok. 9 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 3.0s\n",
            false,
        );
        assert!(!summary.passed());
        let broken: Vec<_> = summary
            .suites
            .iter()
            .filter(|s| !s.finished || s.failed > 0)
            .map(|s| s.name.as_str())
            .collect();
        assert_eq!(
            broken,
            [
                "tests/tooling.rs (target/debug/deps/tooling-9f)",
                "tests/events.rs (target/debug/deps/events-77)"
            ]
        );
        assert_eq!(
            summary.reruns,
            ["-p deploy-check --test tooling", "-p e2e --test events"]
        );
    }

    #[test]
    fn cargo_failing_before_any_suite_is_a_failure() {
        assert!(!summary_of("error: could not compile `api`\n", false).passed());
    }
}
