//! The page of a drift folder: each setting's distance curves, the pairs and the runs.

use super::{class_names, pct, produced, runs_table, sig};
use crate::drift::DriftRecord;
use crate::schema::RunResult;
use serde_json::{json, Value};
use twinnet_page::{colour, dash, Page, Table};

/// The page of a drift folder.
pub fn drift_page(record: &DriftRecord) -> Page {
    let mut settings = vec![];
    let mut tables = vec![];
    for s in &record.settings {
        let side = |i: usize| s.runs.get(i).map(|r| &r.result.config);
        let pairs: Vec<Value> = s
            .pairs
            .iter()
            .enumerate()
            .map(|(k, p)| {
                let (a, b) = (side(p.a), side(p.b));
                // A floor pair: one the file names as such; in records from before files named
                // their floor, both sides the same implementation (a nudge, threads, a seed).
                let floor = if record.floor.is_empty() {
                    matches!((a, b), (Some(a), Some(b)) if a.backend == b.backend && a.command == b.command)
                } else {
                    record.floor.contains(&p.source)
                };
                json!({
                    "label": p.label, "floor": floor, "color": colour(k), "dash": dash(k),
                    "updates": p.drift.iter().map(|d| d.0).collect::<Vec<_>>(),
                    "distance": p.drift.iter().map(|d| sig(d.1, 4)).collect::<Vec<_>>(),
                })
            })
            .collect();
        settings.push(json!({"setting": s.name, "pairs": pairs}));
        let rows = s
            .pairs
            .iter()
            .map(|p| {
                let last = p.drift.last();
                vec![
                    p.label.clone(),
                    last.map_or("–".into(), |d| d.0.to_string()),
                    last.map_or("–".into(), |d| format!("{:.2e}", d.1)),
                    pct(p.test_accuracy.0),
                    pct(p.test_accuracy.1),
                    if p.identical { "yes".into() } else { "no".into() },
                ]
            })
            .collect();
        let header =
            ["source", "updates", "drift at the end", "test acc a", "test acc b", "identical bits"];
        tables.push(Table {
            title: format!("{}: pairs", s.name),
            header: header.iter().map(|x| x.to_string()).collect(),
            rows,
        });
        let meetings: Vec<Vec<String>> = s
            .pairs
            .iter()
            .flat_map(|p| p.meets.iter().map(move |m| (p, m)))
            .map(|(p, m)| {
                let against = if m.source == crate::drift::meets::FLOOR {
                    let by: Vec<String> = m
                        .set_by
                        .iter()
                        .map(|(src, n)| format!("{} ×{n}", s.label_of(src)))
                        .collect();
                    format!("the floor (set by {})", by.join(", "))
                } else {
                    s.label_of(&m.source).to_string()
                };
                let at = |u: Option<usize>| u.map_or("never".into(), |u| u.to_string());
                let r = |x: f64| if x.is_nan() { "–".into() } else { format!("{x:.2}×") };
                vec![
                    p.label.clone(),
                    against,
                    at(m.stays_from),
                    at(m.first_within),
                    r(m.largest_after),
                    if m.share_outside.is_nan() {
                        "–".into()
                    } else {
                        format!("{:.0}%", 100.0 * m.share_outside)
                    },
                    r(m.ratio_at_end),
                ]
            })
            .collect();
        if !meetings.is_empty() {
            let f = crate::drift::MEET_FACTOR;
            let header = [
                "pair".to_string(),
                "against".into(),
                format!("within {f}× from update (for good)"),
                "first within".into(),
                "largest ratio after".into(),
                "samples outside".into(),
                "ratio at the end".into(),
            ];
            tables.push(Table {
                title: format!(
                    "{}: is a drift at most {f}× the floor (within {f}× of a source), and from when on?",
                    s.name
                ),
                header: header.to_vec(),
                rows: meetings,
            });
        }
        let results: Vec<RunResult> = s.runs.iter().map(|r| r.result.clone()).collect();
        let mut runs = runs_table(&results, &class_names(&results));
        runs.title = format!("{}: runs", s.name);
        tables.push(runs);
    }
    Page {
        title: record.name.clone(),
        description: record.description.trim().to_string(),
        produced: produced(&record.command, &record.cpu, record.cores, record.total_s),
        data: json!({"kind": "drift", "drift": settings}),
        tables,
        heatmaps: vec![],
        strip: None,
    }
}
