//! `twinnet init`: the parameters `train` starts from with the same settings, as a file.

use crate::error::Result;
use crate::execute::initial_params;
use crate::settings::Settings;
use crate::staging::check_writable;
use std::path::Path;
use twinnet_core::{Hidden, Init, InitRng};

/// Writes exactly what `train` starts from with `hidden`, `init`, `init_rng` and `seed` (the
/// same function draws) to `out`.
pub fn init(hidden: Hidden, init: Init, init_rng: InitRng, seed: u64, out: &Path) -> Result<()> {
    check_writable(out, "out")?;
    let settings = Settings {
        hidden: Some(hidden),
        init: Some(init),
        init_rng: Some(init_rng),
        seed: Some(seed),
        ..Settings::default()
    };
    let (params, _) = initial_params(&settings.resolve())?;
    params.save(out)?;
    Ok(())
}
