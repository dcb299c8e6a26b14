//! Two-sample statistics for comparing runs: mean ± sd, the difference of means with its 95%
//! confidence interval and Welch's t-test, and the Mann–Whitney U test, computed as SciPy
//! computes them (`scipy.stats.ttest_ind(a, b, equal_var=False)`,
//! `scipy.stats.mannwhitneyu(a, b)`; the tests check fixed inputs against SciPy's values).
//!
//! ```text
//! Welch:  d = x̄ − ȳ,  se² = s²ₓ/nₓ + s²ᵧ/nᵧ,  t = d / se
//!         ν = se⁴ / ((s²ₓ/nₓ)²/(nₓ−1) + (s²ᵧ/nᵧ)²/(nᵧ−1))      (Welch–Satterthwaite)
//!         p = 2·P(T_ν > |t|),  95% CI = d ± t_{ν, 0.975}·se
//! Mann–Whitney:  U = R₁ − nₓ(nₓ+1)/2 (R₁: rank sum of x, ties averaged), two-sided,
//!         exact when min(nₓ, nᵧ) ≤ 8 and no ties (SciPy's `method="auto"`), else normal with
//!         tie and continuity correction:  z = (max(U, nₓnᵧ − U) − nₓnᵧ/2 − ½) / σ,
//!         σ² = nₓnᵧ/12 · ((n+1) − Σ(t³ − t)/(n(n−1)))
//! ```

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

/// Mean and sample standard deviation (`n − 1`; 0 for one value).
pub fn mean_sd(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let var = if xs.len() > 1 {
        xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1.0)
    } else {
        0.0
    };
    (mean, var.sqrt())
}

/// Welch's two-sample t-test of `x` against `y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Welch {
    /// `x̄ − ȳ`.
    pub diff: f64,
    /// 95% confidence interval of `diff`.
    pub ci95: (f64, f64),
    /// The t statistic.
    pub t: f64,
    /// Welch–Satterthwaite degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p: f64,
}

/// Welch's test, or `None` when a sample has fewer than two values or both have no spread.
pub fn welch(x: &[f64], y: &[f64]) -> Option<Welch> {
    if x.len() < 2 || y.len() < 2 {
        return None;
    }
    let ((mx, sx), (my, sy)) = (mean_sd(x), mean_sd(y));
    let (vx, vy) = (sx * sx / x.len() as f64, sy * sy / y.len() as f64);
    let se2 = vx + vy;
    if se2 == 0.0 {
        return None;
    }
    let se = se2.sqrt();
    let diff = mx - my;
    let t = diff / se;
    let df = se2 * se2 / (vx * vx / (x.len() - 1) as f64 + vy * vy / (y.len() - 1) as f64);
    let dist = StudentsT::new(0.0, 1.0, df).ok()?;
    let p = (2.0 * dist.sf(t.abs())).min(1.0);
    let q = dist.inverse_cdf(0.975);
    Some(Welch { diff, ci95: (diff - q * se, diff + q * se), t, df, p })
}

/// The Mann–Whitney U test of `x` against `y`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MannWhitney {
    /// `U` of `x` (SciPy's `statistic`).
    pub u: f64,
    /// Two-sided p-value.
    pub p: f64,
    /// Whether `p` is exact (small samples without ties) or from the normal approximation.
    pub exact: bool,
}

/// Ranks of `v` from 1, ties given their average rank; and `Σ (t³ − t)` over tie groups.
fn ranks(v: &[f64]) -> (Vec<f64>, f64) {
    let mut order: Vec<usize> = (0..v.len()).collect();
    order.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut r = vec![0.0; v.len()];
    let mut ties = 0.0;
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && v[order[j + 1]] == v[order[i]] {
            j += 1;
        }
        let avg = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            r[k] = avg;
        }
        let t = (j - i + 1) as f64;
        ties += t * t * t - t;
        i = j + 1;
    }
    (r, ties)
}

/// `P(U ≥ u)` under the null hypothesis for samples of sizes `m` and `n` without ties: the
/// number of arrangements with `U = k`, counted by the recursion
/// `c(m, n, k) = c(m − 1, n, k − n) + c(m, n − 1, k)`, over `C(m + n, m)`.
fn exact_sf(u: f64, m: usize, n: usize) -> f64 {
    let max = m * n;
    // c[i][j] = counts of U over 0..=max for sizes (i, j), built up in j.
    let mut prev: Vec<Vec<f64>> = (0..=m).map(|_| vec![1.0]).collect(); // j = 0: U = 0 only
    for j in 1..=n {
        let mut cur: Vec<Vec<f64>> = Vec::with_capacity(m + 1);
        cur.push(vec![1.0]); // i = 0
        for i in 1..=m {
            let len = i * j + 1;
            let mut c = vec![0.0; len];
            // An arrangement of i x's and j y's ends in an x (adds j to U) or a y.
            for (k, v) in cur[i - 1].iter().enumerate() {
                c[k + j] += v;
            }
            for (k, v) in prev[i].iter().enumerate() {
                c[k] += v;
            }
            cur.push(c);
        }
        prev = cur;
    }
    let counts = &prev[m];
    let total: f64 = counts.iter().sum();
    let from = u.ceil().max(0.0) as usize;
    counts.iter().skip(from.min(max + 1)).sum::<f64>() / total
}

/// The two-sided Mann–Whitney U test, or `None` when a sample is empty.
pub fn mann_whitney(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let (m, n) = (x.len(), y.len());
    if m == 0 || n == 0 {
        return None;
    }
    let all: Vec<f64> = x.iter().chain(y).copied().collect();
    let (r, ties) = ranks(&all);
    let r1: f64 = r[..m].iter().sum();
    let u1 = r1 - (m * (m + 1)) as f64 / 2.0;
    let mn = (m * n) as f64;
    let u = u1.max(mn - u1);
    if m.min(n) <= 8 && ties == 0.0 {
        let p = (2.0 * exact_sf(u, m, n)).min(1.0);
        return Some(MannWhitney { u: u1, p, exact: true });
    }
    let big_n = (m + n) as f64;
    let sigma = (mn / 12.0 * ((big_n + 1.0) - ties / (big_n * (big_n - 1.0)))).sqrt();
    if sigma == 0.0 {
        return Some(MannWhitney { u: u1, p: 1.0, exact: false });
    }
    let z = (u - mn / 2.0 - 0.5) / sigma;
    let p = (2.0 * Normal::standard().sf(z)).min(1.0);
    Some(MannWhitney { u: u1, p, exact: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_average_ties() {
        let (r, ties) = ranks(&[3.0, 1.0, 3.0, 2.0]);
        assert_eq!(r, [3.5, 1.0, 3.5, 2.0]);
        assert_eq!(ties, 6.0);
    }
}
