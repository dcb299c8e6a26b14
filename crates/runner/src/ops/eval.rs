//! `twinnet eval`: any parameters file (twinnet's, or a PyTorch `state_dict` saved with
//! safetensors under `fc1.weight`, `fc1.bias`, `fc2.weight`, `fc2.bias`) evaluated on the test
//! set by either backend: the same `test` block, classification report and confusion heatmap
//! as a run's.

use crate::data::{self, DataRecord};
use crate::error::{Context, Result};
use crate::schema::{write_output_json, Environment, TestResult};
use crate::settings::default_threads;
use crate::staging::{check_not_an_input, check_writable};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use twinnet_core::file::Target;
use twinnet_core::{
    Activation, BackendKind, Confusion, Device, Head, Hidden, Model, ModelConfig, Normalize,
    Params, Regime, Threads,
};
use twinnet_data::DatasetName;
use twinnet_engine::Engine;
use twinnet_plot::{draw_confusions, RunView};

/// What `twinnet eval` was asked to do.
#[derive(Debug, Clone)]
pub struct EvalOptions {
    /// The parameters file.
    pub params: PathBuf,
    /// Which backend evaluates.
    pub backend: BackendKind,
    /// Pixel normalization the parameters were trained with.
    pub normalize: Normalize,
    /// Head (decides the reported loss).
    pub head: Head,
    /// Activation of every hidden layer (`None`: relu).
    pub activation: Option<Activation>,
    /// Device of the tch backend.
    pub device: Device,
    /// `--backend process`: the implementation's command.
    pub command: Option<String>,
    /// `--backend process`: seconds to wait for each reply.
    pub process_timeout: Option<f64>,
    /// Threads [default: as for a full-batch run].
    pub threads: Option<usize>,
    /// Which test set.
    pub dataset: DatasetName,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// Write the result here, and the heatmap beside it.
    pub out: Option<PathBuf>,
}

/// What `twinnet eval --out F.json` writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalResult {
    /// The parameters file.
    pub params: PathBuf,
    /// [`Params::fingerprint`] of its contents, 16 hex digits.
    pub params_fingerprint: String,
    /// Hidden widths, read from the file (one width: a number).
    pub hidden: Hidden,
    /// Activation of the hidden layers, when one was given (relu otherwise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation: Option<Activation>,
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

/// `--out F.json` also writes the heatmap `F.png`/`F.svg`: refused when that would overwrite
/// the parameters file, or a file twinnet did not write with this `--out` (a PNG or SVG there
/// while `F.json` is not an eval result of twinnet's).
fn check_heatmap_is_ours(out: &std::path::Path, params: &std::path::Path) -> Result<()> {
    let ours = crate::schema::read_json::<EvalResult>(out, "eval result").is_ok();
    for ext in ["png", "svg"] {
        let fig = out.with_extension(ext);
        check_not_an_input(&fig, "out", &[("params", params)])?;
        if fig.exists() && !ours {
            crate::bail!(
                "--out {}: would also write its heatmap {}, which is already there and not from \
                 an earlier `twinnet eval --out {}`: choose another --out",
                out.display(),
                fig.display(),
                out.display()
            );
        }
    }
    Ok(())
}

/// Evaluates `opts.params` on the test set, with no training set; writes `--out` (and its
/// heatmap beside it, same stem, `.png` and `.svg`).
pub fn eval(opts: &EvalOptions) -> Result<EvalResult> {
    if let Some(out) = &opts.out {
        check_writable(out, "out")?;
        check_not_an_input(out, "out", &[("params", &opts.params)])?;
        if Target::of(out) == Target::File {
            check_heatmap_is_ours(out, &opts.params)?;
        }
    }
    let engine = match (opts.backend, &opts.command) {
        (BackendKind::Process, Some(command)) => {
            let secs = opts.process_timeout.unwrap_or(600.0);
            crate::ensure!(
                secs.is_finite() && secs > 0.0 && secs <= 1e7,
                "--process-timeout: must be seconds in (0, 1e7], got {secs}"
            );
            let spec = twinnet_process::ProcessSpec::parse(
                command,
                std::time::Duration::from_secs_f64(secs),
            )?;
            Engine::Process(Box::new(twinnet_process::ProcessSpec {
                dataset: opts.dataset,
                ..spec
            }))
        }
        (_, Some(_)) => crate::bail!("--command: needs --backend process"),
        (kind, None) => Engine::resolve(kind, opts.device)?,
    };
    let params = Params::load_widths(&opts.params, None)?;
    let hidden = Hidden::new(params.hidden_widths());
    let fingerprint = format!("{:016x}", params.fingerprint());
    let config = ModelConfig {
        hidden: hidden.clone(),
        activation: opts.activation.unwrap_or(twinnet_core::defaults::ACTIVATION),
        head: opts.head,
        normalize: opts.normalize,
    };
    let model = Model::new(config, params)?;
    let threads =
        Threads::new(opts.threads.unwrap_or(default_threads(opts.backend, Regime::FullBatch)))?;
    let data = data::load(opts.data_dir.as_deref(), opts.dataset)?;
    let test = &data.splits.test;
    let (eval, info) = engine.evaluate(&model, test, threads)?;
    let confusion = Confusion::new(test.labels(), &eval.predictions);
    let test_result = TestResult::new(confusion, eval.loss, data.name());
    let result = EvalResult {
        params: opts.params.clone(),
        params_fingerprint: fingerprint,
        hidden,
        activation: opts.activation,
        backend: opts.backend,
        normalize: opts.normalize,
        head: opts.head,
        environment: Environment::here(info, threads.get()),
        data: data.record.clone(),
        test: test_result,
    };
    if let Some(out) = &opts.out {
        let label = opts.params.file_stem().map(|s| s.to_string_lossy().into_owned());
        let label = label.unwrap_or_else(|| "parameters".into());
        let view = RunView { label: &label, history: &[], confusion: Some(&result.test.confusion) };
        let classes = data.name().class_names();
        // The heatmap goes beside a file; `-`, a device or a FIFO gets the JSON alone.
        if Target::of(out) == Target::File {
            draw_confusions(&[view], "twinnet eval", &classes, &out.with_extension(""))
                .with_context(|| format!("--out {}: the heatmap", out.display()))?;
        }
        write_output_json(out, &result)?;
    }
    Ok(result)
}
