//! Keeps the module graph honest: reads every source file under `host/src`, builds the graph of
//! top-level modules from their `crate::` paths, and fails on any cycle, and on any module other
//! than `cli` that uses `cli` (library code never calls back into the command line).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
    out
}

/// The top-level module a file belongs to (`sandbox/probe/inside.rs` is `sandbox`), or `None`
/// for the crate roots.
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).expect("a file under src");
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_string();
    (name != "lib" && name != "main").then_some(name)
}

/// The top-level modules a file's code names through `crate::` paths, `crate::{a, b::c}` groups
/// included. Comment lines (docs, intra-doc links) are not dependencies and are skipped.
fn crate_uses(text: &str) -> BTreeSet<String> {
    let code: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    let mut uses = BTreeSet::new();
    let prefix = "crate::";
    for (at, _) in code.match_indices(prefix) {
        let before = code[..at].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
            continue;
        }
        let rest = &code[at + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if c.is_whitespace() => {}
                    _ if item_start => {
                        let name = ident(&group[i..]);
                        if !name.is_empty() && name != "self" {
                            uses.insert(name);
                        }
                        item_start = false;
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident(rest);
            if !name.is_empty() {
                uses.insert(name);
            }
        }
    }
    uses
}

/// The crate's top-level module graph: module -> modules it uses.
fn crate_graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = Graph::new();
    for file in rust_files(&src) {
        let Some(module) = top_module(&src, &file) else {
            continue;
        };
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|e| panic!("reading {}: {e}", file.display()));
        let deps = graph.entry(module.clone()).or_default();
        deps.extend(crate_uses(&text).into_iter().filter(|d| *d != module));
    }
    graph
}

/// One cycle of `graph`, as the path that closes it, if there is any.
fn find_cycle(graph: &Graph) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &Graph,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut cycle = path[at..].to_vec();
            cycle.push(node.to_string());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, done, path) {
                return Some(cycle);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut done, &mut Vec::new()))
}

#[test]
fn the_top_level_modules_form_no_cycle() {
    let graph = crate_graph();
    assert!(
        graph.contains_key("sandbox") && graph["execute"].contains("sandbox"),
        "the graph was not read: {graph:?}"
    );
    if let Some(cycle) = find_cycle(&graph) {
        panic!(
            "module cycle: {}; move what both sides need into the lower module",
            cycle.join(" -> ")
        );
    }
}

#[test]
fn only_cli_uses_cli() {
    let graph = crate_graph();
    let callers: Vec<_> = graph
        .iter()
        .filter(|(module, deps)| *module != "cli" && deps.contains("cli"))
        .map(|(module, _)| module.as_str())
        .collect();
    assert!(
        callers.is_empty(),
        "library modules use the command line: {callers:?}; move what they need out of cli"
    );
    assert!(graph["cli"].contains("execute"), "cli's uses were not read");
}

#[test]
fn the_reader_sees_paths_groups_and_cycles() {
    let text = "use crate::a::B;\n// see crate::c\nuse crate::{\n    d::E,\n    f::{g, h},\n    self,\n};\nlet x = crate::i::j();\nlet y = mycrate::k;\n";
    let uses: Vec<_> = crate_uses(text).into_iter().collect();
    assert_eq!(uses, ["a", "d", "f", "i"]);

    let mut graph = Graph::new();
    graph.entry("a".into()).or_default().insert("b".into());
    graph.entry("b".into()).or_default().insert("c".into());
    assert_eq!(find_cycle(&graph), None);
    graph.entry("c".into()).or_default().insert("b".into());
    assert_eq!(
        find_cycle(&graph).map(|c| c.join(">")),
        Some("b>c>b".to_string())
    );
}
