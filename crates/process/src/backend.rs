//! [`ProcessBackend`]: a `Backend` whose every operation is a message to a child process.
//!
//! Steps are sent ahead: at the start of each mini-batch epoch the training loop tells the
//! backend the epoch's batches ([`Backend::will_need_epoch`]), and the backend keeps up to
//! [`AHEAD`] of them written to the child before it waits for the reply it needs, so the child
//! never waits for its next request and the parent wakes once per step. Each step sent ahead
//! asks the child to keep the parameters it started from (a checkpoint); whenever the parent
//! needs the state after the last step it consumed (parameters, an evaluation, a batch other
//! than the one sent, the end of training, a divergence or an interrupt), it reads the replies
//! of the steps still ahead, discards them, and rewinds the child to that checkpoint. The
//! results are those of sending one step at a time, bit for bit (a test).

use crate::child::Child;
use crate::error::ProcessError;
use crate::files::{read_params, read_predictions, split_files, write_params};
use crate::group::Scratch;
use crate::hello::{hello, Hello};
use crate::ProcessSpec;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::path::PathBuf;
use twinnet_core::{
    Backend, BackendError, BackendInfo, Batch, BatchError, Evaluation, Model, ModelConfig, Params,
    StepStats, Threads,
};
use twinnet_data::Dataset;

/// The most steps written to the child ahead of the one awaited.
pub const AHEAD: usize = 32;

/// A step written to the child whose reply is not read yet.
#[derive(Debug)]
struct Sent {
    id: u64,
    /// The batch (`None`: all) and learning rate.
    batch: Option<Vec<u32>>,
    lr: f32,
    /// Where the batch is in the epoch's order file, when it was sent by its place.
    at: Option<(usize, usize)>,
}

/// A batch of the epoch ahead: its rows, and its place in the epoch's order (`None` when the
/// program refused the order: the batch is then sent as its list of rows).
#[derive(Debug)]
struct Upcoming {
    rows: Vec<u32>,
    at: Option<(usize, usize)>,
}

/// An implementation in another process, as a backend.
#[derive(Debug)]
pub struct ProcessBackend {
    child: Child,
    info: BackendInfo,
    model: ModelConfig,
    train_len: usize,
    cache: PathBuf,
    /// Files of the exchange that live only as long as the backend (parameters, predictions).
    scratch: Scratch,
    exchanges: u64,
    /// The most steps sent ahead (0 unless the child can rewind).
    ahead: usize,
    /// Whether the child can rewind.
    rewinds: bool,
    sent: VecDeque<Sent>,
    /// The epoch's batches not yet sent, in order.
    upcoming: VecDeque<Upcoming>,
    /// Whether the program takes `order` (unknown until asked; a refusal is final).
    takes_order: Option<bool>,
    /// A failure while handing over an epoch's order (a hint, which cannot fail), reported by
    /// the next operation, which could not succeed after it.
    deferred: Option<ProcessError>,
}

fn failed(e: ProcessError) -> BackendError {
    BackendError::failed(e)
}

impl ProcessBackend {
    /// Starts the implementation `spec` names, checks its protocol version, and initializes
    /// it with `model`'s parameters and settings and the training set `train` (written as
    /// `.npy` into `cache` once per content and normalization; `None`: evaluation only),
    /// computing on `threads`.
    pub fn start(
        spec: &ProcessSpec,
        model: &Model,
        train: Option<&Dataset>,
        threads: Threads,
        cache: PathBuf,
    ) -> Result<Self, ProcessError> {
        let python = crate::python_module(&cache)?;
        let mut child =
            Child::spawn(&spec.command, &spec.argv, &python, spec.timeout, threads.get())?;
        let Hello { info, rewind } = hello(&mut child, &spec.command, model)?;
        let scratch = Scratch::new()
            .map_err(|e| ProcessError::io(&std::env::temp_dir(), "cannot create a folder in", e))?;
        let mut b = Self {
            child,
            info,
            model: model.config().clone(),
            train_len: train.map_or(0, Dataset::len),
            cache,
            scratch,
            exchanges: 0,
            ahead: if rewind { spec.ahead } else { 0 },
            rewinds: rewind,
            sent: VecDeque::new(),
            upcoming: VecDeque::new(),
            takes_order: None,
            deferred: None,
        };
        b.init(spec, model, train, threads)?;
        Ok(b)
    }

    /// Whether the program said it can rewind (`capabilities: ["rewind"]`), so that steps are
    /// sent ahead of need (when the spec allows any).
    pub fn rewinds(&self) -> bool {
        self.rewinds
    }

    fn init(
        &mut self,
        spec: &ProcessSpec,
        model: &Model,
        train: Option<&Dataset>,
        threads: Threads,
    ) -> Result<(), ProcessError> {
        let c = model.config();
        let train = match train {
            Some(t) => {
                let f = split_files(&self.cache, t, c.normalize)?;
                json!({"x": f.x, "y": f.y})
            }
            None => Value::Null,
        };
        let dir = self.exchange_dir()?;
        let params: serde_json::Map<String, Value> = write_params(&dir, model.params())?
            .into_iter()
            .map(|(n, p)| (n.to_string(), Value::from(p.to_string_lossy().into_owned())))
            .collect();
        let settings = json!({
            "head": c.head, "hidden": c.hidden.single(), "normalize": c.normalize,
            "layers": c.widths(), "activation": c.activation,
            "lr": decimal(spec.lr), "regime": spec.regime, "batch_size": spec.batch_size,
            "seed": spec.seed, "threads": threads.get(), "dataset": spec.dataset,
            "optimizer": optimizer_settings(model.optimizer()),
        });
        let req = json!({"op": "init", "params": params, "settings": settings, "train": train});
        let id = self.child.send(req, true)?;
        self.child.recv("init", id)?;
        Ok(())
    }

    /// A fresh folder for one exchange of files.
    fn exchange_dir(&mut self) -> Result<PathBuf, ProcessError> {
        self.exchanges += 1;
        let d = self.scratch.path().join(format!("x{}", self.exchanges));
        std::fs::create_dir(&d).map_err(|e| ProcessError::io(&d, "cannot create", e))?;
        Ok(d)
    }

    /// The error for a reply that breaks the protocol.
    fn invalid(&self, op: &str, message: String) -> ProcessError {
        ProcessError::Invalid { command: self.child.command.clone(), op: op.into(), message }
    }

    /// Writes one step (by its place in the epoch's order when `at` says it, else by its
    /// rows); ahead of need, the child keeps a checkpoint before it.
    fn send_step(
        &mut self,
        batch: Option<Vec<u32>>,
        at: Option<(usize, usize)>,
        lr: f32,
        ahead: bool,
    ) -> Result<(), ProcessError> {
        let b = match (&batch, at) {
            (None, _) => Value::from("all"),
            (Some(_), Some((from, to))) => json!({"order": [from, to]}),
            (Some(ix), None) => Value::from(ix.clone()),
        };
        let req = json!({"op": "step", "batch": b, "lr": decimal(lr), "checkpoint": ahead});
        let id = self.child.send(req, false)?;
        self.sent.push_back(Sent { id, batch, lr, at });
        Ok(())
    }

    /// Brings the child back to the state after the last step consumed: reads the replies of
    /// the steps sent ahead, discards them, rewinds to the checkpoint before the first, and
    /// puts their batches back in front of the upcoming ones.
    fn settle(&mut self) -> Result<(), ProcessError> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        let Some(first) = self.sent.front().map(|s| s.id) else { return Ok(()) };
        self.child.flush("step")?;
        let sent: Vec<Sent> = self.sent.drain(..).collect();
        for s in &sent {
            // A step taken back: its outcome (an error included) does not count.
            match self.child.recv("step", s.id) {
                Ok(_) | Err(ProcessError::Failed { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let id = self.child.send(json!({"op": "rewind", "to": first}), true)?;
        self.child.recv("rewind", id)?;
        // Every step still in `sent` was sent ahead, from `upcoming`: they go back in front.
        for s in sent.into_iter().rev() {
            if let Some(rows) = s.batch {
                self.upcoming.push_front(Upcoming { rows, at: s.at });
            }
        }
        Ok(())
    }

    fn step_inner(&mut self, batch: Option<Vec<u32>>, lr: f32) -> Result<StepStats, ProcessError> {
        if let Some(e) = self.deferred.take() {
            return Err(e);
        }
        let matches = self.sent.front().is_some_and(|s| s.batch == batch && s.lr == lr);
        let sent = if matches {
            self.sent.pop_front().expect("a step was sent")
        } else {
            self.settle()?;
            let at = match self.upcoming.front() {
                Some(u) if Some(&u.rows) == batch.as_ref() => {
                    self.upcoming.pop_front().and_then(|u| u.at)
                }
                _ => None,
            };
            self.send_step(batch.clone(), at, lr, false)?;
            self.sent.pop_back().expect("just sent")
        };
        while self.sent.len() < self.ahead {
            let Some(next) = self.upcoming.pop_front() else { break };
            self.send_step(Some(next.rows), next.at, lr, true)?;
        }
        let r = self.child.recv("step", sent.id)?;
        let size = batch.as_ref().map_or(self.train_len, Vec::len);
        let loss = r["loss"].as_f64().or_else(|| non_finite(&r["loss"]));
        let correct = r["correct"].as_u64();
        match (loss, correct, r["size"].as_u64()) {
            (Some(loss), Some(correct), Some(n)) if n as usize == size && correct <= n => {
                Ok(StepStats { loss: loss as f32, correct: correct as usize, size })
            }
            _ => Err(self.invalid(
                "step",
                format!("expected loss, correct ≤ size and size {size}, got {r}"),
            )),
        }
    }
}

/// `x` as the shortest decimal that reads back as it (0.1, not 0.10000000149011612): what a
/// user wrote, so an implementation in float64 gets the learning rate the user meant.
fn decimal(x: f32) -> f64 {
    x.to_string().parse().unwrap_or(x as f64)
}

/// `"NaN"`, `"Infinity"`, `"-Infinity"` (how the protocol writes what JSON cannot hold).
fn non_finite(v: &Value) -> Option<f64> {
    match v.as_str()? {
        "NaN" => Some(f64::NAN),
        "Infinity" => Some(f64::INFINITY),
        "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

impl ProcessBackend {
    /// Hands the child the epoch's order (an int64 `.npy`), so that steps can name their batch
    /// by its place in it instead of listing its rows. `Ok(false)`: the program refused it
    /// (an error reply), and will get lists of rows.
    fn send_order(&mut self, order: &[u32]) -> Result<bool, ProcessError> {
        self.settle()?;
        self.upcoming.clear();
        if self.takes_order == Some(false) {
            return Ok(false);
        }
        let path = self.exchange_dir()?.join("order.npy");
        let a: ndarray::Array1<i64> = order.iter().map(|&i| i as i64).collect();
        ndarray_npy::write_npy(&path, &a).map_err(|e| {
            ProcessError::io(&path, "cannot write", std::io::Error::other(e.to_string()))
        })?;
        let id = self.child.send(json!({"op": "order", "path": path}), true)?;
        let taken = match self.child.recv("order", id) {
            Ok(_) => true,
            Err(ProcessError::Failed { .. }) => false,
            Err(e) => return Err(e),
        };
        self.takes_order = Some(taken);
        Ok(taken)
    }
}

impl Backend for ProcessBackend {
    fn train_len(&self) -> usize {
        self.train_len
    }

    fn step(&mut self, batch: Batch<'_>, lr: f32) -> Result<StepStats, BackendError> {
        let b = match batch {
            Batch::All => None,
            Batch::Indices(ix) => {
                BatchError::check(ix, self.train_len)?;
                Some(ix.to_vec())
            }
        };
        self.step_inner(b, lr).map_err(failed)
    }

    fn will_need_epoch(&mut self, order: &[u32], batch_size: usize) {
        // A hint: steps are sent ahead by their place in the order, or by their rows when the
        // program refuses `order`. A program gone meanwhile fails the next step, naming `order`.
        if self.ahead == 0 || batch_size == 0 || self.deferred.is_some() {
            return;
        }
        let by_place = match self.send_order(order) {
            Ok(taken) => taken,
            Err(e) => {
                self.deferred = Some(e);
                return;
            }
        };
        self.upcoming = order
            .chunks(batch_size)
            .enumerate()
            .map(|(k, c)| Upcoming {
                rows: c.to_vec(),
                at: by_place.then_some((k * batch_size, k * batch_size + c.len())),
            })
            .collect();
    }

    fn evaluate(&mut self, data: &Dataset) -> Result<Evaluation, BackendError> {
        let run = |this: &mut Self| -> Result<Evaluation, ProcessError> {
            this.settle()?;
            let files = split_files(&this.cache, data, this.model.normalize)?;
            let pred = this.exchange_dir()?.join("predictions.npy");
            let req = json!({"op": "evaluate", "x": files.x, "y": files.y, "predictions": pred});
            let id = this.child.send(req, true)?;
            let r = this.child.recv("evaluate", id)?;
            let loss = r["loss"].as_f64().or_else(|| non_finite(&r["loss"]));
            let loss = loss.ok_or_else(|| this.invalid("evaluate", format!("no loss in {r}")))?;
            let predictions =
                read_predictions(&pred, data.len()).map_err(|m| this.invalid("evaluate", m))?;
            Ok(Evaluation { predictions, loss })
        };
        run(self).map_err(failed)
    }

    fn params(&mut self) -> Result<Params, BackendError> {
        let run = |this: &mut Self| -> Result<Params, ProcessError> {
            this.settle()?;
            let dir = this.exchange_dir()?;
            let id = this.child.send(json!({"op": "params", "dir": dir}), true)?;
            this.child.recv("params", id)?;
            read_params(&dir, &this.model.widths()).map_err(|m| this.invalid("params", m))
        };
        run(self).map_err(failed)
    }

    fn describe(&self) -> BackendInfo {
        self.info.clone()
    }
}

/// `settings.optimizer`: every key present, whatever the optimizer (those of the other kind
/// at `torch.optim`'s defaults).
pub(crate) fn optimizer_settings(o: &twinnet_core::Optimizer) -> Value {
    use twinnet_core::{Betas, Optimizer};
    let (weight_decay, decay) = o.decay();
    let (momentum, dampening, nesterov, betas, eps) = match *o {
        Optimizer::Sgd { momentum, dampening, nesterov, .. } => {
            (momentum, dampening, nesterov, Betas::default(), 1e-8)
        }
        Optimizer::Adam { betas, eps, .. } => (0.0, 0.0, false, betas, eps),
    };
    json!({
        "name": o.kind(), "momentum": momentum, "dampening": dampening, "nesterov": nesterov,
        "weight_decay": weight_decay, "decay": decay, "betas": [betas.0, betas.1], "eps": eps,
    })
}
