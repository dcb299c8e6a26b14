//! `twinnet plan EXP`.

use crate::args::PlanArgs;
use twinnet_runner::experiment::Experiment;
use twinnet_runner::sweep::Plan;

pub fn exec(a: PlanArgs) -> anyhow::Result<()> {
    let exp = Experiment::load(&a.experiment, &a.settings, a.seeds.map(|s| s.0))?;
    let plan = Plan::of(&exp);
    if a.count {
        crate::outln!("{}", plan.runs.len());
    } else if a.json {
        crate::outln!("{}", serde_json::to_string_pretty(&plan)?);
    } else {
        crate::out!("{}", plan.table());
    }
    Ok(())
}
