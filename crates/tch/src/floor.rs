//! The machine's floor as libtorch measures it, for `make bench`: the speed of a large matrix
//! product and of one pass over the training set's `f32` bytes.

use crate::Libtorch;
use std::time::Instant;
use tch::{Kind, Tensor};

/// GFLOP/s of an `n × n` by `n × n` `f32` matmul (`2n³` FLOPs) on the CPU, best of 5 after a
/// warm-up, at the thread count `torch` was configured with.
pub fn sgemm_gflops(torch: &Libtorch, n: usize) -> f64 {
    let _ = torch;
    let n = n as i64;
    let a = Tensor::rand([n, n], (Kind::Float, tch::Device::Cpu));
    let b = Tensor::rand([n, n], (Kind::Float, tch::Device::Cpu));
    let _ = a.matmul(&b);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let c = a.matmul(&b);
        let _ = c.double_value(&[0, 0]);
        best = best.min(t.elapsed().as_secs_f64());
    }
    2.0 * (n as f64).powi(3) / best / 1e9
}

/// GB/s of one sum over `floats` `f32` values on the CPU, best of 5 after a warm-up, at the
/// thread count `torch` was configured with.
pub fn sum_bandwidth_gbs(torch: &Libtorch, floats: usize) -> f64 {
    let _ = torch;
    let x = Tensor::ones([floats as i64], (Kind::Float, tch::Device::Cpu));
    let _ = x.sum(Kind::Float).double_value(&[]);
    let mut best = f64::MAX;
    for _ in 0..5 {
        let t = Instant::now();
        let _ = x.sum(Kind::Float).double_value(&[]);
        best = best.min(t.elapsed().as_secs_f64());
    }
    (floats as f64 * 4.0) / best / 1e9
}

/// Microseconds of fc1's two matrix products in one mini-batch-64 step, median of `samples`
/// samples of 1000 products each (after a warm-up), at the thread count `torch` was configured
/// with: the forward `X·W1ᵀ` (`[64, 784]·[784, h]`, as `nn.Linear` computes it through a
/// transposed view) and the weight gradient `dZ1ᵀ·X` (`[h, 64]·[64, 784]`). These small
/// products are where MKL's choice of kernels shows (see [`crate::mkl`]).
pub fn fc1_products_us(torch: &Libtorch, hidden: usize, samples: usize) -> (f64, f64) {
    let _ = torch;
    let opts = (Kind::Float, tch::Device::Cpu);
    let x = Tensor::rand([64, 784], opts);
    let w = Tensor::rand([hidden as i64, 784], opts);
    let dz = Tensor::rand([64, hidden as i64], opts);
    let time = |f: &dyn Fn() -> Tensor| {
        let _ = f();
        let mut s: Vec<f64> = (0..samples.max(1))
            .map(|_| {
                let t = Instant::now();
                for _ in 0..1000 {
                    let _ = f();
                }
                t.elapsed().as_secs_f64() * 1e3 // µs per product: s / 1000 · 1e6
            })
            .collect();
        s.sort_by(f64::total_cmp);
        s[s.len() / 2]
    };
    let forward = time(&|| x.matmul(&w.tr()));
    let weight_grad = time(&|| dz.tr().matmul(&x));
    (forward, weight_grad)
}
