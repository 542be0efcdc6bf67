//! The house rules of `src/` (docs/architecture.md), read from the source:
//! the top-level modules import each other without a cycle, and a repo,
//! a row or the core below `http` never names an HTTP type.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `src/a/b.rs` → (`a`, `a/b`), without unit tests (`#[cfg(test)]` onwards).
fn files() -> Vec<(String, String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    sources(&src, &mut paths);
    paths
        .into_iter()
        .map(|p| {
            let rel = p.strip_prefix(&src).unwrap().with_extension("").to_string_lossy().replace('\\', "/");
            let top = rel.split('/').next().unwrap().to_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap().to_owned();
            (top, rel, code)
        })
        .collect()
}

/// The top-level modules a piece of code names as `crate::<module>`.
fn imports(code: &str) -> BTreeSet<String> {
    code.match_indices("crate::")
        .map(|(i, m)| {
            code[i + m.len()..].chars().take_while(|c| c.is_ascii_lowercase() || *c == '_').collect::<String>()
        })
        .filter(|m| !m.is_empty())
        .collect()
}

#[test]
fn top_level_modules_import_each_other_without_a_cycle() {
    let modules: BTreeSet<String> = files().into_iter().map(|(top, _, _)| top).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (top, _, code) in files() {
        let deps: Vec<String> = imports(&code).into_iter().filter(|m| *m != top && modules.contains(m)).collect();
        graph.entry(top).or_default().extend(deps);
    }
    assert!(graph["stakeholders"].contains("db"), "the scan sees imports: {graph:?}");
    // Depth-first search for a back edge.
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == n) {
            let mut cycle = path[i..].to_vec();
            cycle.push(n.to_owned());
            return Some(cycle);
        }
        if !done.insert(n.to_owned()) {
            return None;
        }
        path.push(n.to_owned());
        for next in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(next, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(cycle) = visit(n, &graph, &mut Vec::new(), &mut done) {
            panic!("import cycle: {}", cycle.join(" -> "));
        }
    }
}

#[test]
fn repos_rows_and_the_core_below_http_name_no_http_type() {
    let below_http = ["error", "db", "audit", "domain", "money", "config"];
    let mut offenders = Vec::new();
    for (top, rel, code) in files() {
        let repo_or_row = rel.ends_with("/repo") || rel.ends_with("/model") || rel.ends_with("/lifecycle");
        if (repo_or_row || below_http.contains(&top.as_str()))
            && (code.contains("crate::http") || code.contains("actix_web") || code.contains("crate::state"))
        {
            offenders.push(rel);
        }
    }
    assert!(offenders.is_empty(), "HTTP types below the HTTP layer: {offenders:?}");
}
