//! `twinnet eval`: any parameters file (twinnet's, or a PyTorch `state_dict` saved with
//! safetensors under `fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias`) evaluated on the test
//! set by either backend: the same `test` block, classification report and confusion heatmap
//! as a run's.

use crate::cli::EvalArgs;
use crate::config::default_threads;
use crate::data::{Data, DataRecord};
use crate::result::{write_json, Environment, TestResult};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use twinnet_core::{
    Backend, BackendKind, Confusion, Device, Head, Model, ModelConfig, Normalize, Params, Regime,
    Threads,
};
use twinnet_data::Dataset;
use twinnet_plot::{draw_confusions, RunView};

/// What `twinnet eval --out F.json` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// The parameters file.
    pub params: PathBuf,
    /// [`Params::fingerprint`] of its contents, 16 hex digits.
    pub params_fingerprint: String,
    /// Hidden width, read from the file.
    pub hidden: usize,
    /// Backend that evaluated.
    pub backend: BackendKind,
    /// Input normalization.
    pub normalize: Normalize,
    /// Output head (its loss is `test.loss`).
    pub head: Head,
    /// Where and with what it ran.
    pub environment: Environment,
    /// The test data.
    pub data: DataRecord,
    /// Accuracy, loss, confusion matrix, per-class metrics and the classification report.
    pub test: TestResult,
}

/// Evaluates `a.params` on `data`'s test set; writes `--out` (and its heatmap beside it).
pub fn eval(a: &EvalArgs, data: &Data) -> Result<EvalResult> {
    let params = Params::load(&a.params, None)?;
    let hidden = params.hidden;
    let fingerprint = format!("{:016x}", params.fingerprint());
    let config = ModelConfig { hidden, head: a.head, normalize: a.normalize };
    let model = Model::new(config, params)?;
    let threads = Threads::new(a.threads.unwrap_or(default_threads(a.backend, Regime::FullBatch)))?;
    let nothing = Dataset::new(vec![], vec![]);
    let test = &data.mnist.test;
    let (eval, info) = match a.backend {
        BackendKind::Ndarray => {
            anyhow::ensure!(a.device != Device::Cuda, "device: cuda needs --backend tch");
            let mut b = twinnet_ndarray::NdarrayBackend::new(&model, &nothing, threads);
            (b.evaluate(test)?, b.describe())
        }
        BackendKind::Tch => tch_eval(&model, &nothing, test, a.device, threads)?,
    };
    let confusion = Confusion::new(test.labels(), &eval.predictions);
    let test_result = TestResult::new(confusion, eval.loss, data.name());
    let result = EvalResult {
        params: a.params.clone(),
        params_fingerprint: fingerprint,
        hidden,
        backend: a.backend,
        normalize: a.normalize,
        head: a.head,
        environment: Environment::here(info, threads.get()),
        data: data.record.clone(),
        test: test_result,
    };
    if let Some(out) = &a.out {
        let label = a.params.file_stem().map(|s| s.to_string_lossy().into_owned());
        let label = label.unwrap_or_else(|| "parameters".into());
        let view = RunView { label: &label, history: &[], confusion: Some(&result.test.confusion) };
        let classes = data.name().class_names();
        draw_confusions(&[view], "twinnet eval", &classes, &out.with_extension(""))
            .with_context(|| format!("--out {}: the heatmap", out.display()))?;
        write_json(out, &result)?;
    }
    Ok(result)
}

#[cfg(feature = "tch")]
fn tch_eval(
    model: &Model,
    nothing: &Dataset,
    test: &Dataset,
    device: Device,
    threads: Threads,
) -> Result<(twinnet_core::Evaluation, twinnet_core::BackendInfo)> {
    let device = twinnet_tch::TchDevice::resolve(device)?;
    let torch = twinnet_tch::Libtorch::configure(threads);
    let mut b = twinnet_tch::TchBackend::new(&torch, model, nothing, device)?;
    Ok((b.evaluate(test)?, b.describe()))
}

#[cfg(not(feature = "tch"))]
fn tch_eval(
    _: &Model,
    _: &Dataset,
    _: &Dataset,
    _: Device,
    _: Threads,
) -> Result<(twinnet_core::Evaluation, twinnet_core::BackendInfo)> {
    anyhow::bail!("backend: tch is not in this build (built without the `tch` feature)")
}
