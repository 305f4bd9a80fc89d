//! The cancel tree of a dump: every scope nested under its parent, each
//! with the tasks that run under it, as indented text or Graphviz DOT.

use std::collections::HashMap;
use std::fmt::{self, Write as _};

use super::{CancelState, Dump, ScopeDump, ScopeId, TaskDump};

/// The cancel tree of a [`Dump`] ([`Dump::tree`]). `Display` writes it as
/// indented text: each scope with its cancel state, its tasks beneath it,
/// then its child scopes.
pub struct CancelTree<'a> {
    dump: &'a Dump,
    /// Child scopes of each scope, in the dump's order.
    children: HashMap<ScopeId, Vec<&'a ScopeDump>>,
    /// Tasks of each scope, by id.
    tasks: HashMap<ScopeId, Vec<&'a TaskDump>>,
    /// Scopes with no parent in the dump.
    roots: Vec<&'a ScopeDump>,
}

/// One step of the depth-first walk (explicit stack: deep trees do not
/// overflow the thread's stack).
enum Step<'a> {
    Scope(&'a ScopeDump, usize),
    Task(&'a TaskDump, usize),
}

impl<'a> CancelTree<'a> {
    pub(super) fn new(dump: &'a Dump) -> CancelTree<'a> {
        let known: HashMap<ScopeId, ()> = dump.scopes.iter().map(|s| (s.id, ())).collect();
        let mut children: HashMap<ScopeId, Vec<&ScopeDump>> = HashMap::new();
        let mut roots = Vec::new();
        for s in &dump.scopes {
            match s.parent.filter(|p| known.contains_key(p)) {
                Some(p) => children.entry(p).or_default().push(s),
                None => roots.push(s),
            }
        }
        let mut tasks: HashMap<ScopeId, Vec<&TaskDump>> = HashMap::new();
        for t in &dump.tasks {
            if let Some(s) = t.scope {
                tasks.entry(s).or_default().push(t);
            }
        }
        CancelTree {
            dump,
            children,
            tasks,
            roots,
        }
    }

    /// Visits scopes and tasks depth first, each with its depth.
    fn walk(&self, mut f: impl FnMut(Step<'a>) -> fmt::Result) -> fmt::Result {
        let mut stack: Vec<Step<'a>> = self.roots.iter().rev().map(|s| Step::Scope(s, 0)).collect();
        while let Some(step) = stack.pop() {
            if let Step::Scope(s, depth) = step {
                for c in self.children.get(&s.id).into_iter().flatten().rev() {
                    stack.push(Step::Scope(c, depth + 1));
                }
                for t in self.tasks.get(&s.id).into_iter().flatten().rev() {
                    stack.push(Step::Task(t, depth + 1));
                }
            }
            f(step)?;
        }
        Ok(())
    }

    /// The tree as a Graphviz DOT `digraph`: scopes are boxes, tasks
    /// ellipses, cancelled ones red and draining ones orange; an edge goes
    /// from each scope to its child scopes and its tasks.
    pub fn to_dot(&self) -> String {
        let mut out = String::from(
            "digraph quell_cancel_tree {\n    rankdir=LR;\n    node [fontname=\"monospace\"];\n",
        );
        let _ = self.walk(|step| {
            match step {
                Step::Scope(s, _) => {
                    let label = scope_label(s, self.dump.taken_at);
                    writeln!(
                        out,
                        "    \"{}\" [shape=box, label=\"{}\"{}];",
                        s.id,
                        escape(&label),
                        color(&s.cancel)
                    )?;
                    if let Some(p) = s.parent.filter(|p| self.children.contains_key(p)) {
                        writeln!(out, "    \"{p}\" -> \"{}\";", s.id)?;
                    }
                }
                Step::Task(t, _) => {
                    let mut label = format!("task {}", t.id);
                    if let Some(n) = &t.name {
                        let _ = write!(label, " {n:?}");
                    }
                    let _ = write!(label, "\n{}", t.state);
                    if let Some(w) = &t.wait {
                        let _ = write!(label, "\n{}", w.what);
                    }
                    writeln!(
                        out,
                        "    \"task{}\" [shape=ellipse, label=\"{}\"{}];",
                        t.id,
                        escape(&label),
                        color(&t.cancel)
                    )?;
                    if let Some(s) = t.scope {
                        writeln!(out, "    \"{s}\" -> \"task{}\";", t.id)?;
                    }
                }
            }
            Ok(())
        });
        out.push_str("}\n");
        out
    }
}

fn scope_label(s: &ScopeDump, now: std::time::Instant) -> String {
    let mut label = s.id.to_string();
    if s.is_runtime_root {
        label.push_str(" (runtime root)");
    }
    let _ = write!(label, "\n{}", s.cancel);
    if let Some(d) = s.deadline {
        let _ = write!(label, "\ndeadline {}", super::text::Rel(d, now));
    }
    label
}

fn color(c: &CancelState) -> &'static str {
    match c {
        CancelState::NotCancelled => "",
        CancelState::Draining { .. } => ", color=orange",
        CancelState::Cancelled { .. } => ", color=red",
    }
}

/// Escapes a DOT string (quotes, backslashes; newlines become `\n`).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

impl fmt::Display for CancelTree<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "cancel tree ({} scopes):", self.dump.scopes.len())?;
        self.walk(|step| match step {
            Step::Scope(s, depth) => {
                write!(f, "{:width$}{}", "", s.id, width = 2 * depth)?;
                if s.is_runtime_root {
                    f.write_str(" (runtime root)")?;
                }
                write!(f, ": {}", s.cancel)?;
                if let Some(d) = s.deadline {
                    write!(f, ", deadline {}", super::text::Rel(d, self.dump.taken_at))?;
                }
                writeln!(f)
            }
            Step::Task(t, depth) => {
                write!(f, "{:width$}", "", width = 2 * depth)?;
                t.write_head(f)?;
                if let Some(w) = &t.wait {
                    write!(f, " in {}", w.what)?;
                }
                writeln!(f)
            }
        })
    }
}
