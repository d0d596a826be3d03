//! Writes a synthetic stack's spans: `synth-spans DIR REQUESTS [RATE]`
//! makes DIR/api-4242.jsonl and DIR/worker-4343.jsonl (the throughput
//! benchmark in benches/README.md uses 620,000 requests: 2.55 M spans, about 1 GB).

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let dir = PathBuf::from(args.get(1).map_or("/tmp/capsim-spans", String::as_str));
    let requests = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(10_000);
    let rate = args.get(3).and_then(|s| s.parse().ok()).unwrap_or(50.0);
    std::fs::create_dir_all(&dir)?;
    let mut api = BufWriter::new(File::create(dir.join("api-4242.jsonl"))?);
    let mut worker = BufWriter::new(File::create(dir.join("worker-4343.jsonl"))?);
    let opts = capsim_calibrate::synth::SynthOptions {
        requests,
        rate_per_s: rate,
        ..Default::default()
    };
    let spans = capsim_calibrate::synth::write(&mut api, &mut worker, &opts)?;
    eprintln!("{spans} spans in {}", dir.display());
    Ok(())
}
