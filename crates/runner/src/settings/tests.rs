//! Tests of the parent module.

use super::*;

#[test]
fn defaults_are_the_reports() {
    let c = Settings::default().resolve();
    // The report's settings (defaults::* is the one table; these are its values).
    assert_eq!(
        (c.backend, c.regime, c.batch_size, c.epochs),
        (BackendKind::Ndarray, Regime::FullBatch, 64, 500)
    );
    assert_eq!(ModelConfig::default(), c.model_config());
    let t = c.train_config();
    assert_eq!(t, TrainConfig { seed: c.seed, ..TrainConfig::default() });
    assert_eq!(
        (c.init, c.normalize, c.head, c.hidden),
        (Init::Uniform, Normalize::Unit, Head::Softmax, Hidden::one(10))
    );
    assert!((c.lr - 0.1).abs() < 1e-9);
}

#[test]
fn default_threads_by_backend_and_regime() {
    let resolve = |backend, regime| {
        Settings { backend: Some(backend), regime: Some(regime), ..Default::default() }
            .resolve()
            .threads
    };
    assert_eq!(resolve(BackendKind::Tch, Regime::FullBatch), 2);
    assert_eq!(resolve(BackendKind::Tch, Regime::Minibatch), 1);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let nd = resolve(BackendKind::Ndarray, Regime::FullBatch);
    assert_eq!(nd, cores.min(twinnet_ndarray::MAX_THREADS));
    assert_eq!(resolve(BackendKind::Ndarray, Regime::Minibatch), nd);
    // A given count is kept.
    let three =
        Settings { threads: Some(3), backend: Some(BackendKind::Tch), ..Default::default() };
    assert_eq!(three.resolve().threads, 3);
}

#[test]
fn precedence_and_round_trip() {
    let flags = Settings { lr: Some(0.5), ..Default::default() };
    let base = Settings { lr: Some(0.2), epochs: Some(3), ..Default::default() };
    let c = flags.or(&base).resolve();
    assert_eq!((c.lr, c.epochs), (0.5, 3));
    assert_eq!(Settings::from_config(&c).resolve(), c);
}

#[test]
fn validation_names_the_option() {
    let ok = Settings::default().resolve();
    assert!(ok.validate(60_000).is_ok());
    let cuda = Settings { device: Some(Device::Cuda), ..Default::default() };
    assert_eq!(cuda.resolve().validate(60_000).unwrap_err().field, "device");
    let cases: [(Settings, &str); 10] = [
        (Settings { lr: Some(-1.0), ..Default::default() }, "lr"),
        (Settings { lr: Some(f32::NAN), ..Default::default() }, "lr"),
        (Settings { epochs: Some(0), ..Default::default() }, "epochs"),
        (Settings { hidden: Some(Hidden::one(0)), ..Default::default() }, "hidden"),
        (Settings { hidden: Some(Hidden::new(vec![30, 0])), ..Default::default() }, "hidden"),
        (Settings { threads: Some(0), ..Default::default() }, "threads"),
        (Settings { train_limit: Some(0), ..Default::default() }, "train-limit"),
        (Settings { train_limit: Some(60_001), ..Default::default() }, "train-limit"),
        (
            Settings { regime: Some(Regime::Minibatch), batch_size: Some(0), ..Default::default() },
            "batch-size",
        ),
        (
            Settings {
                regime: Some(Regime::Minibatch),
                batch_size: Some(70_000),
                ..Default::default()
            },
            "batch-size",
        ),
    ];
    for (s, field) in cases {
        let err = s.resolve().validate(60_000).unwrap_err();
        assert_eq!(err.field, field, "{err}");
    }
}

/// The flags a child process gets (`run --jobs`, Slurm's `--index`) give back the same
/// settings, the optimizer's included (`--nesterov true`, `--betas 0.8,0.99`).
#[test]
fn optimizer_settings_survive_the_command_line() {
    use clap::Parser;
    use twinnet_core::{Betas, DecayScope, OptimizerKind};
    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }
    let cases = [
        Settings {
            optimizer: Some(OptimizerKind::AdamW),
            betas: Some(Betas(0.8, 0.99)),
            eps: Some(1e-6),
            weight_decay: Some(0.1),
            decay: Some(DecayScope::Weights),
            ..Default::default()
        },
        Settings {
            momentum: Some(0.9),
            nesterov: Some(true),
            weight_decay: Some(1e-4),
            ..Default::default()
        },
        Settings { momentum: Some(0.5), dampening: Some(0.25), ..Default::default() },
    ];
    for s in cases {
        let args = s.to_args();
        let back = Cli::parse_from(std::iter::once("twinnet".to_string()).chain(args.clone()));
        assert_eq!(back.settings, s, "{args:?}");
    }
    // `--nesterov` alone, as people type it.
    let alone = Cli::parse_from(["twinnet", "--momentum", "0.9", "--nesterov"]);
    assert_eq!(alone.settings.nesterov, Some(true));
}
