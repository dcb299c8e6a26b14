//! Made-up results for the library's tests.

use crate::data::DataRecord;
use crate::schema::{Environment, Initial, RunResult, Status, TestResult, Timing, SCHEMA_VERSION};
use crate::settings::Settings;
use twinnet_core::{Confusion, Divergence, EpochRecord};
use twinnet_data::DatasetName;

/// A run of configuration `config`, seed `seed`: `Some(acc)` completed with that test
/// accuracy, `None` diverged.
pub fn run(config: &str, seed: u64, acc: Option<f64>) -> RunResult {
    let mut c = Settings::default().resolve();
    c.name = format!("{config}-seed{seed}");
    c.seed = seed;
    c.epochs = 3;
    let history: Vec<EpochRecord> = (1..=3)
        .map(|e| EpochRecord {
            epoch: e,
            step: e,
            train_loss: 1.0 / e as f64,
            train_accuracy: 0.5 + 0.1 * e as f64 + 0.01 * seed as f64,
            elapsed_s: e as f64,
            test_accuracy: None,
            test_loss: None,
        })
        .collect();
    let test = acc.map(|a| {
        // 100 test images, 10 per digit; `a · 100` of them right.
        let labels: Vec<u8> = (0..100).map(|i| (i % 10) as u8).collect();
        let right = (a * 100.0).round() as usize;
        let preds: Vec<u8> = labels
            .iter()
            .enumerate()
            .map(|(i, &l)| {
                if i < right {
                    l
                } else if l == 9 {
                    0
                } else {
                    (l + 1) % 9
                }
            })
            .collect();
        TestResult::new(Confusion::new(&labels, &preds), 0.5, DatasetName::Mnist)
    });
    let divergence = acc.is_none().then(|| Divergence {
        epoch: 1,
        step: 1,
        loss: "NaN".into(),
        reason: "the loss is not a finite number".into(),
    });
    RunResult {
        schema_version: SCHEMA_VERSION,
        config: c.clone(),
        environment: Environment {
            twinnet: "test".into(),
            backend_library: "test".into(),
            device: "cpu".into(),
            cpu: "test".into(),
            cpu_features: String::new(),
            numerics: Default::default(),
            threads: 1,
            os: "test".into(),
        },
        data: DataRecord {
            dataset: DatasetName::Mnist,
            sha256: Default::default(),
            verified: false,
        },
        config_hash: crate::sweep::config_hash(&c),
        initial: Initial { source: "test".into(), fingerprint: "0".into() },
        status: if acc.is_some() { Status::Completed } else { Status::Diverged },
        divergence,
        updates_per_epoch: 1,
        history,
        test,
        timing: Timing { train_s: 1.0, per_epoch_s: 1.0 / 3.0, eval_s: 0.1 },
    }
}

/// A drift pair of `source` (also its label) between runs 0 and 1, with the curve `drift`.
pub fn pair(source: &str, drift: &[(usize, f64)]) -> crate::drift::PairRecord {
    crate::drift::PairRecord {
        source: source.into(),
        label: source.into(),
        a: 0,
        b: 1,
        drift: drift.to_vec(),
        train_accuracy_difference: vec![],
        test_accuracy: (None, None),
        recall_difference: vec![],
        identical: false,
        meets: vec![],
    }
}
