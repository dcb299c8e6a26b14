//! `twinnet compare A B`.

use crate::args::CompareArgs;
use twinnet_runner::compare::compare_sides;
use twinnet_runner::schema::write_output_json;
use twinnet_runner::staging::check_writable;

pub fn exec(a: CompareArgs) -> anyhow::Result<()> {
    if let Some(j) = &a.json {
        check_writable(j, "json")?;
    }
    let c = compare_sides(&a.a, &a.b, a.target)?;
    if let Some(j) = &a.json {
        c.check_output(j)?;
    }
    if let Some(w) = &c.warning {
        eprintln!("twinnet: warning: {w}");
    }
    crate::out!("{}", c.text());
    if let Some(j) = &a.json {
        write_output_json(j, &c.json())?;
    }
    Ok(())
}
