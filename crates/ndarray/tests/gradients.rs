//! The hand-written gradients: the reference against finite differences, and the fast `f32`
//! path against the reference.

use ndarray::{Array2, ArrayView2};
use twinnet_core::rng::{Rng, Stream};
use twinnet_core::{
    Activation, Backend, Batch, Head, Hidden, Init, Model, ModelConfig, Normalize, Params, Threads,
    INPUTS,
};
use twinnet_data::Dataset;
use twinnet_ndarray::kernels::Kernels;
use twinnet_ndarray::reference::{self as r, Parameters};
use twinnet_ndarray::NdarrayBackend;

const HEADS: [Head; 2] = [Head::Softmax, Head::DoubleSoftmax];

use twinnet_testkit::random_dataset as random_data;

/// The backend on `data` from `params`, with `threads` threads.
fn backend(
    config: &ModelConfig,
    params: &Params,
    data: &Dataset,
    threads: usize,
) -> NdarrayBackend {
    let model = Model::new(config.clone(), params.clone()).unwrap();
    NdarrayBackend::new(&model, data, Threads::new(threads).unwrap())
}

/// Features as the reference wants them: `f64`, examples as columns.
fn columns(d: &Dataset, norm: Normalize) -> Array2<f64> {
    let rows = Array2::from_shape_vec((d.len(), INPUTS), d.features(norm)).unwrap();
    rows.t().mapv(|x| x as f64)
}

/// Central differences `(L(θ + ε) − L(θ − ε)) / 2ε` against `backward_prop`, for every bias,
/// every W2 entry and a seeded sample of W1 entries.
///
/// Tolerance: in `f64` with ε = 1e-6 the truncation error is O(ε²·L‴) ≈ 1e-12 and the rounding
/// error ≈ 1e-16·L/ε ≈ 1e-10, so analytic and numeric gradients agree to ≈ 1e-9; we allow
/// `1e-7 + 1e-5·|g|`, far below any real mistake (a missing 1/m or a wrong Jacobian term is
/// off by O(|g|)), and rare ReLU kinks within ε of a pre-activation stay well inside it too.
#[test]
fn finite_difference_check_both_heads() {
    let data = random_data(9, 1);
    let x = columns(&data, Normalize::Symmetric);
    let y = data.labels();
    for head in HEADS {
        let net = Parameters::from_params(&Params::init(5, Init::Uniform, 2).unwrap());
        let f = r::forward_prop(&net, x.view());
        let g = r::backward_prop(&net, head, &f, x.view(), y);
        let loss = |n: &Parameters| r::loss(head, &r::forward_prop(n, x.view()), y);
        let mut rng = Rng::new(3, Stream::Init);
        let mut checked = 0;
        type Pick = fn(&mut Parameters) -> &mut Array2<f64>;
        let tensors: [(&str, Pick, &Array2<f64>); 4] = [
            ("w1", |n| &mut n.w1, &g.dw1),
            ("b1", |n| &mut n.b1, &g.db1),
            ("w2", |n| &mut n.w2, &g.dw2),
            ("b2", |n| &mut n.b2, &g.db2),
        ];
        for (name, pick, grad) in tensors {
            for ((i, j), &analytic) in grad.indexed_iter() {
                if name == "w1" && rng.below(20) != 0 {
                    continue; // a 5% sample of the 3920 entries of W1
                }
                let eps = 1e-6;
                let mut plus = net.clone();
                pick(&mut plus)[[i, j]] += eps;
                let mut minus = net.clone();
                pick(&mut minus)[[i, j]] -= eps;
                let numeric = (loss(&plus) - loss(&minus)) / (2.0 * eps);
                let tol = 1e-7 + 1e-5 * numeric.abs();
                assert!(
                    (analytic - numeric).abs() <= tol,
                    "{head:?} d{name}[{i},{j}]: analytic {analytic:e}, numeric {numeric:e}"
                );
                checked += 1;
            }
        }
        assert!(checked > 250, "{checked}");
    }
}

/// The double-softmax gradient is not the softmax one: the check above must be able to fail.
#[test]
fn heads_have_different_gradients() {
    let data = random_data(9, 4);
    let x = columns(&data, Normalize::Unit);
    let net = Parameters::from_params(&Params::init(5, Init::Uniform, 5).unwrap());
    let f = r::forward_prop(&net, x.view());
    let a = r::backward_prop(&net, Head::Softmax, &f, x.view(), data.labels());
    let b = r::backward_prop(&net, Head::DoubleSoftmax, &f, x.view(), data.labels());
    assert!((&a.db2 - &b.db2).mapv(f64::abs).sum() > 1e-3);
}

fn max_abs_diff(p: &Params, q: &Params) -> f32 {
    let d = |a: &[f32], b: &[f32]| a.iter().zip(b).fold(0f32, |m, (x, y)| m.max((x - y).abs()));
    p.tensors().iter().zip(q.tensors().iter()).fold(0f32, |m, (a, b)| m.max(d(a.2, b.2)))
}

/// The fast path (f32, chunked, threaded) follows the reference (f64, step by step) within
/// 1e-5 after several updates, in both regimes and with both heads, with every kernel set
/// this CPU runs. Hidden width 21 takes the
/// fast path's other branches: two blocks of hidden units (16 + 5) in the per-row products,
/// and register blocks of 10 + 10 + 1 units in the kernels.
#[test]
fn fused_matches_reference() {
    let data = random_data(2500, 6); // > 2 × 1024 rows: the full-batch update uses 2 threads
    for (kernels, head) in Kernels::available().into_iter().flat_map(|k| HEADS.map(|h| (k, h))) {
        for (hidden, norm) in
            [(10, Normalize::Unit), (10, Normalize::Symmetric), (21, Normalize::Symmetric)]
        {
            let model = ModelConfig::report(hidden, head, norm);
            let params = Params::init(hidden, Init::TorchDefault, 7).unwrap();
            let x = columns(&data, norm);
            let y = data.labels();

            // Full batch: 5 iterations.
            let mut fast = backend(&model, &params, &data, 2).with_kernels(kernels);
            let mut slow = Parameters::from_params(&params);
            for _ in 0..5 {
                let s = fast.step(Batch::All, 0.1).unwrap();
                let (l, acc) = r::gradient_descent_step(&mut slow, head, x.view(), y, 0.1);
                assert!(
                    (s.loss as f64 - l).abs() <= 1e-5 * l.abs(),
                    "{head:?} loss {} vs {l}",
                    s.loss
                );
                assert!((s.correct as f64 / 2500.0 - acc).abs() < 1e-12);
            }
            let diff = max_abs_diff(&fast.params().unwrap(), &slow.to_params());
            assert!(
                diff <= 1e-5,
                "{} {head:?} {norm:?} h={hidden} full-batch: {diff:e}",
                kernels.name()
            );

            // Minibatch: 40 steps of 64 with a shuffled order, then one short batch of 3.
            let mut fast = backend(&model, &params, &data, 2).with_kernels(kernels);
            let mut slow = Parameters::from_params(&params);
            let mut rng = Rng::new(8, Stream::Shuffle);
            let mut perm: Vec<u32> = (0..2500).collect();
            rng.shuffle(&mut perm);
            for ix in perm.chunks(64).take(40).chain([&perm[..3]]) {
                let s = fast.step(Batch::Indices(ix), 0.1).unwrap();
                let xb: Array2<f64> =
                    Array2::from_shape_fn((INPUTS, ix.len()), |(k, i)| x[[k, ix[i] as usize]]);
                let yb: Vec<u8> = ix.iter().map(|&i| y[i as usize]).collect();
                let xb: ArrayView2<f64> = xb.view();
                let (l, _) = r::gradient_descent_step(&mut slow, head, xb, &yb, 0.1);
                assert!(
                    (s.loss as f64 - l).abs() <= 1e-5 * l.abs().max(1.0),
                    "{head:?} loss {} vs {l}",
                    s.loss
                );
            }
            let diff = max_abs_diff(&fast.params().unwrap(), &slow.to_params());
            assert!(
                diff <= 1e-5,
                "{} {head:?} {norm:?} h={hidden} minibatch: {diff:e}",
                kernels.name()
            );
        }
    }
}

/// Any thread count gives bit-identical parameters: the batch is cut into parts by its size
/// alone (`fused::PARTS`), so threads only change which parts run at once; the general path
/// splits examples or outputs, never a sum. Full batches of 3000 rows (two parts),
/// mini-batches of 64 and of 2500 (two parts), both normalizations, the report's network and a
/// deeper sigmoid one.
#[test]
fn thread_count_changes_no_bit() {
    let data = random_data(3000, 9);
    let bits = |p: &Params| {
        p.tensors().iter().flat_map(|t| t.2.iter()).map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    let mut rng = Rng::new(4, Stream::Shuffle);
    let mut perm: Vec<u32> = (0..3000).collect();
    rng.shuffle(&mut perm);
    // The report's network (fused kernels) and a deeper sigmoid one (the general path, which
    // cuts a batch of 1024 rows or more between two threads).
    let deeper = |normalize| ModelConfig {
        hidden: Hidden::new(vec![16, 12]),
        activation: Activation::Sigmoid,
        head: Head::SigmoidQuadratic,
        normalize,
    };
    let models = Normalize::ALL.into_iter().flat_map(|normalize| {
        [
            (
                ModelConfig::report(8, Head::Softmax, normalize),
                Params::init(8, Init::Uniform, 1).unwrap(),
            ),
            (deeper(normalize), Params::init_widths(&[784, 16, 12, 10], Init::Normal, 1)),
        ]
    });
    for (model, params) in models {
        let which = (&model.hidden, model.normalize);
        let run = |threads| {
            let mut b = backend(&model, &params, &data, threads);
            for _ in 0..3 {
                b.step(Batch::All, 0.1).unwrap();
            }
            for ix in perm.chunks(64).take(5).chain([&perm[..2500]]) {
                b.step(Batch::Indices(ix), 0.1).unwrap();
            }
            bits(&b.params().unwrap())
        };
        let one = run(1);
        for threads in [2, 3, 8] {
            assert!(one == run(threads), "{which:?}: {threads} threads changed the bits");
        }
    }
}

/// The same bits on every kernel set the CPU runs (AVX-512, AVX2, portable): the order of
/// every sum is pinned, only speed depends on the instruction set. Both regimes, both
/// normalizations, hidden widths 10 and 21 (the products' row stride padded to 16 and 32).
#[test]
fn kernel_sets_agree_bit_for_bit() {
    let data = random_data(2200, 11); // > 2 × 1024 rows: the full batch is cut into two parts
    let bits = |p: &Params| {
        p.tensors().iter().flat_map(|t| t.2.iter()).map(|x| x.to_bits()).collect::<Vec<_>>()
    };
    let mut rng = Rng::new(12, Stream::Shuffle);
    let mut perm: Vec<u32> = (0..2200).collect();
    rng.shuffle(&mut perm);
    let sets = Kernels::available();
    for (normalize, hidden) in
        [(Normalize::Unit, 10), (Normalize::Symmetric, 10), (Normalize::Symmetric, 21)]
    {
        let model = ModelConfig::report(hidden, Head::DoubleSoftmax, normalize);
        let params = Params::init(hidden, Init::TorchDefault, 5).unwrap();
        let train = |k: Kernels| {
            let mut b = backend(&model, &params, &data, 2).with_kernels(k);
            for _ in 0..3 {
                b.step(Batch::All, 0.1).unwrap();
            }
            for ix in perm.chunks(64).take(10) {
                b.step(Batch::Indices(ix), 0.1).unwrap();
            }
            let eval = b.evaluate(&data).unwrap();
            (bits(&b.params().unwrap()), eval.predictions, eval.loss.to_bits())
        };
        let first = train(sets[0]);
        for &k in &sets[1..] {
            assert!(
                train(k) == first,
                "{} and {} differ: {normalize:?} h={hidden}",
                k.name(),
                sets[0].name()
            );
        }
    }
}

#[test]
fn bad_batch_index_is_an_error() {
    let data = random_data(10, 1);
    let model = ModelConfig::report(3, Head::Softmax, Normalize::Unit);
    let mut b = backend(&model, &Params::init(3, Init::Uniform, 1).unwrap(), &data, 1);
    let err = b.step(Batch::Indices(&[1, 10]), 0.1).unwrap_err();
    assert!(err.to_string().contains("index 10"), "{err}");
    // A width that differs from the model's cannot even reach a backend.
    assert!(Model::new(model, Params::init(4, Init::Uniform, 1).unwrap()).is_err());
}
