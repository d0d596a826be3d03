//! The plots drawn from real runs: decoded PNGs have the promised size and
//! real content, SVGs carry their text, and runs without prices, objectives
//! or scaling tiers still get every plot.

use capsim_output::plots::{PlotInput, plots};
use capsim_output::{OutputFile, time_series};
use capsim_scenarios::{Override, library};

fn render(source: &str, text: &str, overrides: &[&str]) -> Vec<OutputFile> {
    let overrides: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    let crate::common::Ran {
        run,
        summary,
        results,
    } = crate::common::run_summarized(source, text, &overrides);
    let series = time_series(&run, &results);
    plots(&PlotInput {
        run: &run,
        summary: &summary,
        series: &series,
        results: &results,
    })
    .unwrap()
}

/// Decodes a PNG and returns (width, height, share of non-white pixels,
/// number of distinct colours).
fn inspect_png(bytes: &[u8]) -> (u32, u32, f64, usize) {
    let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
    let mut reader = decoder.read_info().expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    assert_eq!(info.color_type, png::ColorType::Rgb);
    let pixels: Vec<[u8; 3]> = buf[..info.buffer_size()]
        .chunks_exact(3)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    let ink = pixels.iter().filter(|p| **p != [255, 255, 255]).count();
    let mut colours = pixels.clone();
    colours.sort_unstable();
    colours.dedup();
    (
        info.width,
        info.height,
        ink as f64 / pixels.len() as f64,
        colours.len(),
    )
}

fn check_all(files: &[OutputFile], scenario: &str) {
    let names: Vec<String> = files
        .iter()
        .map(|f| f.relative.display().to_string())
        .collect();
    assert_eq!(
        names,
        [
            "plots/timeline.png",
            "plots/timeline.svg",
            "plots/latency_cdf.png",
            "plots/latency_cdf.svg",
            "plots/cost.png",
            "plots/cost.svg",
            "plots/utilization.png",
            "plots/utilization.svg",
            "plots/breakdown.png",
            "plots/breakdown.svg",
        ]
    );
    for f in files {
        let name = f.relative.display().to_string();
        if name.ends_with(".png") {
            let (w, h, ink, colours) = inspect_png(&f.bytes);
            assert!(w >= 1000 && h >= 500, "{name}: {w}x{h}");
            // Text, axes and lines: some ink, but not a flood.
            assert!(
                (0.02..0.6).contains(&ink),
                "{name}: {:.1}% ink",
                ink * 100.0
            );
            // Anti-aliased text and several series colours.
            assert!(colours > 20, "{name}: {colours} colours");
        } else {
            let svg = std::str::from_utf8(&f.bytes).unwrap();
            assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
            assert!(
                svg.contains(&format!("{scenario}: ")),
                "{name} has its title"
            );
            assert!(
                svg.matches("<text").count() > 15,
                "{name}: ticks and labels"
            );
            assert!(svg.contains("<polyline") || svg.contains("<path"), "{name}");
        }
    }
}

#[test]
fn a_scaling_run_with_prices_and_objectives_gets_every_plot() {
    let b = library::find("step-policy").unwrap();
    let files = render(
        b.name,
        b.text,
        &["simulation.replications=2", "simulation.duration=2h"],
    );
    check_all(&files, "step-policy");
    let timeline = std::str::from_utf8(&files[1].bytes).unwrap();
    // The objective's threshold and the breach shading are explained.
    assert!(timeline.contains("p95-under-1s"));
    assert!(timeline.contains("objective breached"));
    assert!(timeline.contains("app (instances)"));
    let cost = std::str::from_utf8(&files[5].bytes).unwrap();
    assert!(cost.contains("app (t3.small)") && cost.contains("egress traffic"));
}

#[test]
fn a_run_without_prices_objectives_or_scaling_still_gets_every_plot() {
    let b = library::find("tandem").unwrap();
    let files = render(
        b.name,
        b.text,
        &["simulation.replications=2", "simulation.duration=20m"],
    );
    check_all(&files, "tandem");
    let cost = std::str::from_utf8(&files[5].bytes).unwrap();
    assert!(cost.contains("no tier has a price"));
    let timeline = std::str::from_utf8(&files[1].bytes).unwrap();
    assert!(!timeline.contains("objective breached"));
}
