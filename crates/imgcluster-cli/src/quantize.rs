//! `imgcluster quantize`: reduce the colours of an image to K with k-means.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use imgcluster::dataset::imageio::{check_pixels, image_kind, image_size};
use imgcluster::dataset::input::Input;
use imgcluster::dataset::DatasetError;
use imgcluster::kmeans::{Init, KMeansError, KMeansParams, TermCriteria};
use imgcluster::quantize::{
    decode_rgb, quantize, CheckedQuantizeParams, QuantizeError, QuantizeParams,
};
use imgcluster::report::encode_rgb8;
use imgcluster::CvRng;
use serde_json::json;

use crate::args::threads;
use crate::args::{InitArg, QuantizeArgs};
use crate::output;
use crate::progress::Progress;
use crate::run::ms;

/// The validated configuration of a `quantize` run.
struct Config {
    image: PathBuf,
    out: PathBuf,
    params: CheckedQuantizeParams,
    seed: Option<i32>,
    json: bool,
}

fn config(a: &QuantizeArgs) -> Result<Config> {
    let init = match a.init {
        InitArg::Random => Init::RandomBox,
        InitArg::Pp => Init::PlusPlus,
        InitArg::Parallel => {
            bail!("--init parallel (k-means||) is for classify --mode fast; quantize runs OpenCV's k-means")
        }
    };
    let kmeans = KMeansParams::new(a.k as usize)
        .term(
            TermCriteria::new()
                .max_iter(a.max_iter as usize)
                .epsilon(a.epsilon),
        )
        .attempts(a.attempts as usize)
        .init(init)
        .threads(threads(a.threads));
    let params = QuantizeParams::new(a.k as usize)
        .kmeans(kmeans)
        .max_samples(a.max_samples as usize)
        .check()?;
    if a.image.is_dir() {
        bail!("{}: is a folder, expected an image", a.image.display());
    }
    let ext = a
        .out
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    if ext.as_deref().is_some_and(|e| e != "png") {
        anyhow::bail!(
            "--out {}: quantize writes PNG images; give a name ending in .png",
            a.out.display()
        );
    }
    output::prepare_file(&a.out, "--out")?;
    Ok(Config {
        image: a.image.clone(),
        out: a.out.clone(),
        params,
        seed: a.seed,
        json: a.json,
    })
}

/// The bytes of the image to quantize, read once; what is not a PNG or JPEG, or states more
/// pixels than can be decoded, is refused from its first bytes.
fn read_image_file(path: &Path) -> Result<Vec<u8>> {
    let name = path.display();
    let err = |e: DatasetError| match e {
        DatasetError::Io { source, .. } => {
            anyhow::anyhow!("{name}: cannot read the file: {source}")
        }
        e => anyhow::anyhow!("{e}"),
    };
    let input = Input::open(path).map_err(err)?;
    if image_kind(input.head()).is_none() {
        bail!("{name}: {}", QuantizeError::NotImage);
    }
    if let Some((w, h)) = image_size(input.head()) {
        // Up to 4 decoded bytes a pixel (RGBA) and the 3 of the RGB copy quantize works on.
        check_pixels(w, h, 4 + 3).map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
    }
    input.read_all(u64::MAX).map_err(err)
}

pub fn run(a: &QuantizeArgs, progress: &Progress, w: &mut impl Write) -> Result<()> {
    let t0 = Instant::now();
    let cfg = config(a)?;
    let name = cfg.image.display().to_string();
    let loading = progress.spinner(format!("reading {name}…"));
    let bytes = read_image_file(&cfg.image)?;
    let img = decode_rgb(&bytes).with_context(|| name.clone())?;
    drop(loading);
    let n = img.width() * img.height();
    let k = cfg.params.kmeans().k();

    let t = Instant::now();
    let fitting = progress.spinner(format!(
        "k-means: {k} colours, {} attempts on {} pixels…",
        cfg.params.kmeans().attempts(),
        n.min(cfg.params.max_samples())
    ));
    let mut rng = cfg
        .seed
        .map_or_else(CvRng::opencv_default, CvRng::from_set_rng_seed);
    let q = quantize(&img, &cfg.params, &mut rng).map_err(|e| match e {
        QuantizeError::KMeans(KMeansError::TooFewSamples { n: fitted, .. }) if fitted < n => {
            anyhow::anyhow!(
                "--max-samples {}: the {fitted} pixels it keeps are fewer than the {k} colours (-k)",
                cfg.params.max_samples()
            )
        }
        QuantizeError::KMeans(KMeansError::TooFewSamples { n, .. }) => {
            anyhow::anyhow!("-k {k}: more colours than the {n} pixels of {name}")
        }
        e => anyhow::Error::new(e).context(name.clone()),
    })?;
    drop(fitting);
    let kmeans_ms = ms(t);

    let png = encode_rgb8(q.image.width(), q.image.height(), q.image.data())?;
    output::write_atomic(&cfg.out, &png)?;
    let total_ms = ms(t0);
    let palette: Vec<String> = q
        .palette
        .iter()
        .map(|c| format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2]))
        .collect();
    if cfg.json {
        let v = json!({
            "image": name,
            "width": img.width(),
            "height": img.height(),
            "k": k,
            "distinct_colors_in": img.distinct_colors(),
            "distinct_colors_out": q.distinct_colors(),
            "palette": palette,
            "fitted_pixels": q.fitted,
            "compactness": q.compactness,
            "iterations": q.iterations,
            "seed": cfg.seed,
            "out": cfg.out.display().to_string(),
            "timings_ms": { "kmeans": kmeans_ms, "total": total_ms },
        });
        writeln!(w, "{v}")?;
    } else {
        writeln!(
            w,
            "{name}: {}x{} pixels, {} colours -> {} colours",
            img.width(),
            img.height(),
            img.distinct_colors(),
            q.distinct_colors()
        )?;
        if q.fitted < n {
            writeln!(
                w,
                "Fitted on {} of {n} pixels (one in {}), then every pixel given its nearest center",
                q.fitted,
                n.div_ceil(q.fitted)
            )?;
        }
        writeln!(w, "Palette: {}", palette.join(" "))?;
        writeln!(
            w,
            "Wrote {} in {total_ms:.0} ms (k-means {kmeans_ms:.0} ms)",
            cfg.out.display()
        )?;
    }
    Ok(())
}
