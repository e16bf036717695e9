//! The binary's modules form a layered graph: no module reaches, through `crate::…` paths,
//! back to itself.

use std::collections::BTreeMap;
use std::path::PathBuf;

/// Module name → the modules its source names as `crate::<module>`.
fn imports() -> BTreeMap<String, Vec<String>> {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("rs") {
            continue;
        }
        let name = path.file_stem().unwrap().to_str().unwrap().to_string();
        let text = std::fs::read_to_string(&path).unwrap();
        let mut used: Vec<String> = text
            .match_indices("crate::")
            .map(|(at, _)| {
                text[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect::<String>()
            })
            .filter(|m| !m.is_empty() && *m != name)
            .collect();
        used.sort();
        used.dedup();
        graph.insert(name, used);
    }
    graph
}

/// A cycle through `node`, if the graph has one reachable from it.
fn cycle_from(
    node: &str,
    graph: &BTreeMap<String, Vec<String>>,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    if let Some(at) = path.iter().position(|n| n == node) {
        let mut c = path[at..].to_vec();
        c.push(node.to_string());
        return Some(c);
    }
    path.push(node.to_string());
    for next in graph.get(node).into_iter().flatten() {
        if let Some(c) = cycle_from(next, graph, path) {
            return Some(c);
        }
    }
    path.pop();
    None
}

#[test]
fn the_cli_modules_import_each_other_without_a_cycle() {
    let graph = imports();
    assert!(graph.contains_key("classify") && graph.contains_key("run"));
    // The check can fail: a graph with a back edge has a cycle.
    let mut looped = graph.clone();
    looped.get_mut("run").unwrap().push("classify".to_string());
    assert!(looped
        .keys()
        .any(|n| cycle_from(n, &looped, &mut Vec::new()).is_some()));
    for node in graph.keys() {
        if let Some(c) = cycle_from(node, &graph, &mut Vec::new()) {
            panic!("import cycle: {}", c.join(" -> "));
        }
    }
}
