//! Classification metrics of a 10-class prediction, as scikit-learn computes them.
//!
//! ```text
//! C[t][p]    = #{ i : yᵢ = t, ŷᵢ = p }          (rows: true digit, columns: predicted)
//! precision  = C[k][k] / Σₜ C[t][k]             (0 when class k is never predicted: zero_division=0)
//! recall     = C[k][k] / Σₚ C[k][p]             (0 when class k never occurs)
//! f1         = 2·P·R / (P + R)                  (0 when P + R = 0)
//! macro avg  = mean over classes;  weighted avg = mean weighted by support
//! ```

use crate::params::CLASSES;
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// The index of the largest of `z` (not empty), by `torch.argmax`'s rule, the one both
/// backends use: the first maximum, and a NaN counts as larger than any number (the first NaN
/// wins). Branch-free in the loop (the winner's position is random: a branch would
/// mispredict), as the backends call it once per row.
///
/// ```
/// use twinnet_core::argmax;
/// assert_eq!(argmax(&[1.0, 3.0, 3.0]), 1);
/// assert_eq!(argmax(&[1.0, f32::NAN, 5.0, f32::NAN]), 1);
/// assert_eq!(argmax(&[f32::NAN, 5.0]), 0);
/// ```
#[inline(always)]
pub fn argmax(z: &[f32]) -> usize {
    let (mut best, mut top) = (0, z[0]);
    for (k, &v) in z.iter().enumerate().skip(1) {
        let more = !top.is_nan() && (v > top || v.is_nan());
        best = if more { k } else { best };
        top = if more { v } else { top };
    }
    best
}

/// Precision, recall, F1 and support of one class (or an average).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ClassMetrics {
    /// Of the examples predicted as this class, the fraction that are.
    pub precision: f64,
    /// Of the examples of this class, the fraction predicted as it.
    pub recall: f64,
    /// Harmonic mean of precision and recall.
    pub f1: f64,
    /// Examples of this class (for averages: all examples).
    pub support: u64,
}

/// A 10×10 confusion matrix, rows = true digit, columns = predicted digit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confusion(pub [[u64; CLASSES]; CLASSES]);

fn ratio(num: u64, den: u64) -> f64 {
    if den == 0 {
        0.0
    } else {
        num as f64 / den as f64
    }
}

impl Confusion {
    /// Counts `(label, prediction)` pairs.
    ///
    /// # Panics
    /// If the slices differ in length or hold a value above 9.
    pub fn new(labels: &[u8], predictions: &[u8]) -> Self {
        assert_eq!(labels.len(), predictions.len(), "one prediction per label");
        let mut c = [[0; CLASSES]; CLASSES];
        for (&t, &p) in labels.iter().zip(predictions) {
            c[t as usize][p as usize] += 1;
        }
        Self(c)
    }

    /// Number of examples.
    pub fn total(&self) -> u64 {
        self.0.iter().flatten().sum()
    }

    /// Fraction of examples on the diagonal.
    pub fn accuracy(&self) -> f64 {
        ratio((0..CLASSES).map(|k| self.0[k][k]).sum(), self.total())
    }

    /// Metrics of every class.
    pub fn per_class(&self) -> [ClassMetrics; CLASSES] {
        std::array::from_fn(|k| {
            let tp = self.0[k][k];
            let predicted: u64 = (0..CLASSES).map(|t| self.0[t][k]).sum();
            let support: u64 = self.0[k].iter().sum();
            let (precision, recall) = (ratio(tp, predicted), ratio(tp, support));
            let f1 = if precision + recall > 0.0 {
                2.0 * precision * recall / (precision + recall)
            } else {
                0.0
            };
            ClassMetrics { precision, recall, f1, support }
        })
    }

    /// Unweighted mean over classes.
    pub fn macro_avg(&self) -> ClassMetrics {
        self.average(|_| 1.0 / CLASSES as f64)
    }

    /// Mean over classes weighted by support.
    pub fn weighted_avg(&self) -> ClassMetrics {
        let total = self.total();
        let pc = self.per_class();
        self.average(|k| ratio(pc[k].support, total))
    }

    fn average(&self, weight: impl Fn(usize) -> f64) -> ClassMetrics {
        let pc = self.per_class();
        let avg = |f: fn(&ClassMetrics) -> f64| (0..CLASSES).map(|k| weight(k) * f(&pc[k])).sum();
        ClassMetrics {
            precision: avg(|m| m.precision),
            recall: avg(|m| m.recall),
            f1: avg(|m| m.f1),
            support: self.total(),
        }
    }

    /// Classes that occur but are never predicted: the model has collapsed them.
    pub fn collapsed(&self) -> Vec<u8> {
        (0..CLASSES)
            .filter(|&k| {
                self.0[k].iter().sum::<u64>() > 0 && (0..CLASSES).all(|t| self.0[t][k] == 0)
            })
            .map(|k| k as u8)
            .collect()
    }

    /// The text of scikit-learn's `classification_report(y_true, y_pred, digits=2,
    /// zero_division=0, target_names=names)`, character for character (MNIST's names are the
    /// digits, `"0"` to `"9"`): the name column is as wide as the longest name or
    /// `weighted avg`, whichever is longer, as scikit-learn makes it.
    pub fn classification_report(&self, names: &[&str; CLASSES]) -> String {
        let w = names.iter().map(|n| n.chars().count()).max().unwrap_or(0).max(12);
        let mut s = format!("{:>w$} ", "");
        for h in ["precision", "recall", "f1-score", "support"] {
            write!(s, " {h:>9}").unwrap();
        }
        s.push_str("\n\n");
        let row = |s: &mut String, name: &str, m: &ClassMetrics| {
            writeln!(
                s,
                "{name:>w$}  {:>9.2} {:>9.2} {:>9.2} {:>9}",
                m.precision, m.recall, m.f1, m.support
            )
            .unwrap();
        };
        for (name, m) in names.iter().zip(self.per_class().iter()) {
            row(&mut s, name, m);
        }
        s.push('\n');
        writeln!(
            s,
            "{:>w$}  {:>9} {:>9} {:>9.2} {:>9}",
            "accuracy",
            "",
            "",
            self.accuracy(),
            self.total()
        )
        .unwrap();
        row(&mut s, "macro avg", &self.macro_avg());
        row(&mut s, "weighted avg", &self.weighted_avg());
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-made prediction with a collapsed class (9 is never predicted).
    fn example() -> Confusion {
        let mut labels = vec![];
        let mut preds = vec![];
        for k in 0..10u8 {
            for i in 0..(10 + k as usize) {
                labels.push(k);
                // Class k is right except every (k+2)-th example, which goes to k+1 mod 9.
                let p = if k == 9 {
                    4
                } else if i % (k as usize + 2) == 0 {
                    (k + 1) % 9
                } else {
                    k
                };
                preds.push(p);
            }
        }
        Confusion::new(&labels, &preds)
    }

    #[test]
    fn matches_scikit_learn() {
        // from sklearn.metrics import classification_report
        // labels/preds as in `example()` (scikit-learn 1.x):
        // print(classification_report(labels, preds, digits=2, zero_division=0))
        let expected = "              precision    recall  f1-score   support

           0       0.71      0.50      0.59        10
           1       0.58      0.64      0.61        11
           2       0.69      0.75      0.72        12
           3       0.77      0.77      0.77        13
           4       0.33      0.79      0.47        14
           5       0.80      0.80      0.80        15
           6       0.82      0.88      0.85        16
           7       0.88      0.88      0.88        17
           8       0.89      0.89      0.89        18
           9       0.00      0.00      0.00        19

    accuracy                           0.68       145
   macro avg       0.65      0.69      0.66       145
weighted avg       0.64      0.68      0.65       145
";
        let digits = ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"];
        assert_eq!(example().classification_report(&digits), expected);
    }

    /// With class names (`target_names=`), and a name longer than `weighted avg`, which widens
    /// the first column (expected text from scikit-learn 1.x).
    #[test]
    fn named_report_matches_scikit_learn() {
        let mut names = twinnet_data::DatasetName::FashionMnist.class_names();
        let expected = "              precision    recall  f1-score   support

 T-shirt/top       0.71      0.50      0.59        10
     Trouser       0.58      0.64      0.61        11
    Pullover       0.69      0.75      0.72        12
       Dress       0.77      0.77      0.77        13
        Coat       0.33      0.79      0.47        14
      Sandal       0.80      0.80      0.80        15
       Shirt       0.82      0.88      0.85        16
     Sneaker       0.88      0.88      0.88        17
         Bag       0.89      0.89      0.89        18
  Ankle boot       0.00      0.00      0.00        19

    accuracy                           0.68       145
   macro avg       0.65      0.69      0.66       145
weighted avg       0.64      0.68      0.65       145
";
        assert_eq!(example().classification_report(&names), expected);
        names[3] = "Dress (a much longer name)";
        let wide = "                            precision    recall  f1-score   support

               T-shirt/top       0.71      0.50      0.59        10
                   Trouser       0.58      0.64      0.61        11
                  Pullover       0.69      0.75      0.72        12
Dress (a much longer name)       0.77      0.77      0.77        13
                      Coat       0.33      0.79      0.47        14
                    Sandal       0.80      0.80      0.80        15
                     Shirt       0.82      0.88      0.85        16
                   Sneaker       0.88      0.88      0.88        17
                       Bag       0.89      0.89      0.89        18
                Ankle boot       0.00      0.00      0.00        19

                  accuracy                           0.68       145
                 macro avg       0.65      0.69      0.66       145
              weighted avg       0.64      0.68      0.65       145
";
        assert_eq!(example().classification_report(&names), wide);
    }

    #[test]
    fn collapsed_and_averages() {
        let c = example();
        assert_eq!(c.collapsed(), vec![9]);
        assert_eq!(c.total(), 145);
        let pc = c.per_class();
        assert_eq!(pc[9].precision, 0.0);
        let w = c.weighted_avg();
        let manual: f64 = pc.iter().map(|m| m.recall * m.support as f64).sum::<f64>() / 145.0;
        assert!((w.recall - manual).abs() < 1e-12);
        // Weighted recall equals accuracy, always.
        assert!((w.recall - c.accuracy()).abs() < 1e-12);
    }
}
