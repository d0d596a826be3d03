//! `capsim calibrate`: spans in, a commented scenario out (the work is in
//! the capsim-calibrate crate).

use capsim_calibrate::{Options, calibrate as run_calibration, write_scenario};

use crate::Failure;
use crate::cli::CalibrateArgs;

pub fn calibrate(args: CalibrateArgs) -> Result<(), Failure> {
    // Refuse before reading gigabytes, not after.
    if !args.force && args.out.exists() {
        return Err(Failure::Input(
            capsim_calibrate::CalibrateError::Exists(args.out.clone()).to_string(),
        ));
    }
    let name = args.name.clone().unwrap_or_else(|| {
        args.out
            .file_stem()
            .map_or("calibrated".into(), |s| s.to_string_lossy().into_owned())
    });
    let opts = Options {
        inputs: args.spans.clone(),
        name,
        min_samples: args.min_samples,
        threaded: args.threaded,
        progress: !args.quiet,
    };
    let fail = |e: capsim_calibrate::CalibrateError| {
        if e.is_input() {
            Failure::Input(e.to_string())
        } else {
            Failure::Run(e.to_string())
        }
    };
    let c = run_calibration(&opts).map_err(fail)?;
    write_scenario(&args.out, &c.toml, args.force).map_err(fail)?;
    if !args.quiet {
        crate::out::print(format!(
            "wrote {} ({} classes from {} spans, {:.1} MB)\n",
            args.out.display(),
            c.classes,
            c.spans,
            c.bytes as f64 / 1e6
        ))?;
    }
    Ok(())
}
