//! How twinnet writes numbers that JSON cannot hold: `NaN`, `Infinity` and `-Infinity` as
//! those strings (JavaScript's names), every finite number as a number. serde_json would write
//! a non-finite `f64` as `null`, which no reader can tell apart from a missing value and which
//! twinnet itself could not read back. Used as `#[serde(with = "crate::num")]` on the fields
//! that may be non-finite (a drift of a pair whose side `a` is all zeros, a ratio of two zero
//! drifts, the test loss of a broken model); [`pairs`] for `[updates, value]` lists.

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// The text of a non-finite number, `None` for a finite one.
pub fn text(x: f64) -> Option<&'static str> {
    if x.is_nan() {
        Some("NaN")
    } else if x == f64::INFINITY {
        Some("Infinity")
    } else if x == f64::NEG_INFINITY {
        Some("-Infinity")
    } else {
        None
    }
}

/// A number as written: finite as a number, otherwise as its [`text`].
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Number(f64),
    Text(String),
}

impl Repr {
    fn of(x: f64) -> Self {
        match text(x) {
            Some(t) => Repr::Text(t.into()),
            None => Repr::Number(x),
        }
    }

    fn value<E: serde::de::Error>(self) -> Result<f64, E> {
        match self {
            Repr::Number(x) => Ok(x),
            Repr::Text(t) => match t.as_str() {
                "NaN" => Ok(f64::NAN),
                "Infinity" => Ok(f64::INFINITY),
                "-Infinity" => Ok(f64::NEG_INFINITY),
                other => Err(E::custom(format!(
                    "`{other}` is not a number (non-finite numbers are written NaN, Infinity, -Infinity)"
                ))),
            },
        }
    }
}

/// Serializes `x` (non-finite as text).
pub fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
    Repr::of(*x).serialize(s)
}

/// Reads a number or one of the three texts.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    Repr::deserialize(d)?.value()
}

/// `[updates, value]` lists with non-finite values as text.
pub mod pairs {
    use super::Repr;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Serializes the list.
    pub fn serialize<S: Serializer>(v: &[(usize, f64)], s: S) -> Result<S::Ok, S::Error> {
        let r: Vec<(usize, Repr)> = v.iter().map(|&(u, x)| (u, Repr::of(x))).collect();
        r.serialize(s)
    }

    /// Reads the list.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<(usize, f64)>, D::Error> {
        let r: Vec<(usize, Repr)> = Vec::deserialize(d)?;
        r.into_iter().map(|(u, x)| Ok((u, x.value()?))).collect()
    }
}

#[cfg(test)]
mod tests {
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct T {
        #[serde(with = "super")]
        x: f64,
        #[serde(with = "super::pairs")]
        v: Vec<(usize, f64)>,
    }

    #[test]
    fn non_finite_numbers_round_trip_as_text() {
        let t = T { x: f64::NAN, v: vec![(1, f64::INFINITY), (2, -0.5), (3, f64::NEG_INFINITY)] };
        let s = serde_json::to_string(&t).unwrap();
        assert_eq!(s, r#"{"x":"NaN","v":[[1,"Infinity"],[2,-0.5],[3,"-Infinity"]]}"#);
        let back: T = serde_json::from_str(&s).unwrap();
        assert!(back.x.is_nan() && back.v[1..] == t.v[1..] && back.v[0].1 == f64::INFINITY);
        let finite: T = serde_json::from_str(r#"{"x":0.25,"v":[]}"#).unwrap();
        assert_eq!(finite, T { x: 0.25, v: vec![] });
        let e = serde_json::from_str::<T>(r#"{"x":"nan","v":[]}"#).unwrap_err().to_string();
        assert!(e.contains("did not match") || e.contains("not a number"), "{e}");
    }
}
