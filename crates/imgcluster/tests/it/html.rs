//! Integration tests: HTML reports and their blocks.
//!
//! Set `IMGCLUSTER_FIGURE_DIR` to a folder to also write the report rendered here as
//! `test_report.html` there, for looking at it in a browser.

use imgcluster::dataset::{grid, Dataset};
use imgcluster::kmeans::{self, KMeansParams, TermCriteria};
use imgcluster::metrics::ConfusionMatrix;
use imgcluster::report::blocks::{
    class_scores_table, cluster_means, confusion_table, misclassified_rows, value_images,
};
use imgcluster::report::html::{
    escape, Block, Cell, Column, Fact, Image, ImageRow, KeyFigure, Report, Section, Table,
    TableStyle,
};
use imgcluster::report::{encode_rgb8, Colormap, Rgb};
use imgcluster::{CvRng, GrayImage};

/// Standard base64 decoding, written independently of the encoder under test.
fn base64_decode(s: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not a base64 character: {:?}", c as char),
        }
    };
    assert_eq!(s.len() % 4, 0, "base64 length {}", s.len());
    let mut out = Vec::new();
    for quad in s.as_bytes().chunks(4) {
        let pad = quad.iter().rev().take_while(|&&c| c == b'=').count();
        assert!(pad <= 2);
        let n = quad[..4 - pad]
            .iter()
            .fold(0u32, |acc, &c| (acc << 6) | value(c))
            << (6 * pad);
        let bytes = [(n >> 16) as u8, (n >> 8) as u8, n as u8];
        out.extend_from_slice(&bytes[..3 - pad]);
    }
    out
}

/// Every `data:image/png;base64,` URI of a document, decoded.
fn embedded_pngs(html: &str) -> Vec<Vec<u8>> {
    const PREFIX: &str = "src=\"data:image/png;base64,";
    html.match_indices(PREFIX)
        .map(|(i, _)| {
            let rest = &html[i + PREFIX.len()..];
            let end = rest.find('"').expect("closing quote");
            base64_decode(&rest[..end])
        })
        .collect()
}

/// Decodes a PNG: width, height.
fn png_dims(bytes: &[u8]) -> (u32, u32) {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes))
        .read_info()
        .expect("a valid PNG header");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).expect("valid PNG data");
    (info.width, info.height)
}

fn maybe_save(name: &str, html: &str) {
    if let Ok(dir) = std::env::var("IMGCLUSTER_FIGURE_DIR") {
        std::fs::write(std::path::Path::new(&dir).join(name), html).unwrap();
    }
}

/// A report with every kind of block, and hostile text everywhere text can go.
fn sample_report() -> (Report, Vec<Vec<u8>>) {
    let evil = "<script>alert('x')</script> & \"quotes\"";
    let digit = GrayImage::from_vec(3, 2, vec![0, 50, 100, 150, 200, 250]);
    let gray = Image::gray(digit.view(), 4)
        .unwrap()
        .caption(evil)
        .alt(evil);
    let colored = Image::colored(
        &[0.0, 1.0, 2.0, 3.0],
        2,
        2,
        Colormap::Viridis,
        Default::default(),
        5,
    )
    .unwrap();
    let plain = Image::from_png(encode_rgb8(2, 1, &[255, 0, 0, 0, 0, 255]).unwrap()).unwrap();
    let pngs = vec![gray.png.clone(), colored.png.clone(), plain.png.clone()];
    let table = Table::new(["name", evil])
        .row([
            Cell::header(evil),
            Cell::number("12"),
            Cell::text(evil),
            Cell::shaded(evil, Rgb::from_hex(0x440154)),
            Cell::bar(0.25, evil),
            Cell::Empty,
        ])
        .caption(evil);
    let report = Report::new(evil)
        .subtitle(evil)
        .footer(evil)
        .section(
            Section::new("Key figures")
                .intro(evil)
                .block(Block::KeyFigures(vec![KeyFigure::new(
                    "accuracy", "53.18%",
                )
                .note(evil)])),
        )
        .section(Section::new(evil).block(Block::Facts(vec![Fact::new(evil, evil)])))
        .section(Section::new("Table").block(Block::Table(table)))
        .section(
            Section::new("Images")
                .block(Block::Image(plain))
                .block(Block::ImageGrid(vec![
                    ImageRow::new(vec![gray]).label(evil),
                    ImageRow::new(vec![]),
                ]))
                .block(Block::Text(evil.into())),
        )
        .section(Section::new("Columns").block(Block::Columns(vec![
            Column::new(evil, vec![Block::Image(colored)]),
            Column::new("", vec![Block::Text("right".into())]),
        ])));
    (report, pngs)
}

#[test]
fn report_is_one_self_contained_document() {
    let (report, _) = sample_report();
    let html = report.to_html();
    maybe_save("test_report.html", &html);
    assert!(html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(html.trim_end().ends_with("</html>"));
    assert!(html.contains("<meta charset=\"utf-8\">"));
    assert!(html.contains("<style>"));
    for forbidden in [
        "http://", "https://", "<script", "<link", "@import", "url(", "<iframe",
    ] {
        assert!(
            !html.to_ascii_lowercase().contains(forbidden),
            "found {forbidden}"
        );
    }
    // One section element per section, each linked from the table of contents.
    assert_eq!(html.matches("<section id=").count(), 5);
    for i in 1..=5 {
        assert!(html.contains(&format!("<a href=\"#s{i}\">")));
        assert!(html.contains(&format!("<section id=\"s{i}\">")));
    }
}

#[test]
fn all_text_is_escaped() {
    let (report, _) = sample_report();
    let html = report.to_html();
    let escaped = escape("<script>alert('x')</script> & \"quotes\"");
    assert_eq!(
        escaped,
        "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;quotes&quot;"
    );
    // Title twice (<title> and <h1>), subtitle, footer, intro, key-figure note, section
    // heading and its table-of-contents entry, fact name and value, table header, row
    // heading, text, shaded and bar cells, caption, image alt and title, image caption,
    // row label, paragraph, column heading.
    assert!(html.matches(&escaped).count() >= 20, "{html}");
    assert!(!html.contains("<script>"));
    assert!(!html.contains("\"quotes\""));
}

#[test]
fn embedded_images_decode_to_the_same_pngs() {
    let (report, pngs) = sample_report();
    let html = report.to_html();
    let found = embedded_pngs(&html);
    // gray (once), plain (once), colored (once).
    assert_eq!(found.len(), 3);
    for png in &found {
        assert!(pngs.contains(png));
        png_dims(png);
    }
    assert!(html.contains("class=\"pixelated\" width=\"12\" height=\"8\""));
    assert!(html.contains("<img width=\"2\" height=\"1\""));
}

#[test]
fn table_styles_and_cells() {
    let t = Table::new(["a"]).style(TableStyle::Heatmap).row([
        Cell::shaded("7", Rgb::from_hex(0xfde725)),
        Cell::shaded("8", Rgb::from_hex(0x440154)),
    ]);
    let html = Report::new("t")
        .section(Section::new("s").block(Block::Table(t)))
        .to_html();
    assert!(html.contains("<table class=\"heatmap\">"));
    // Dark text on the light end of viridis, white text on the dark end.
    assert!(html.contains("style=\"background:#fde725;color:#000000\">7</td>"));
    assert!(html.contains("style=\"background:#440154;color:#ffffff\">8</td>"));
    // A single section gets no table of contents.
    assert!(!html.contains("<nav>"));
}

#[test]
fn digits_report_blocks() {
    let digits = grid::digits();
    // Small and fast: the first 50 digits of each class, k-means with few iterations.
    let idx: Vec<usize> = (0..5000).filter(|i| i % 500 < 50).collect();
    let ds = digits.subset(&idx);
    let params = KMeansParams::new(10)
        .term(TermCriteria::new().max_iter(5).epsilon(1.0))
        .attempts(1)
        .check()
        .unwrap();
    let fit = kmeans::fit(&params, &ds.to_f32(), 400, &mut CvRng::opencv_default()).unwrap();

    // OpenCV's last step recomputes the centers from the labels it returns, so the cluster
    // means of the data are the centers (up to f32 against f64 summation).
    let means = cluster_means(&ds, &fit.labels, 10).unwrap();
    assert_eq!(means.counts.iter().sum::<usize>(), 500);
    for (m, c) in means.means.iter().zip(&fit.centers) {
        assert!((m - c).abs() < 1e-3, "{m} vs {c}");
    }

    let labels = ds.labels().unwrap();
    let cm = ConfusionMatrix::new(labels, &fit.labels, 10).unwrap();
    let conf = confusion_table(&cm, &[]).unwrap();
    assert_eq!(conf.rows.len(), 10);
    assert!(conf.rows.iter().all(|r| r.len() == 11));
    let scores = class_scores_table(&cm, &[]).unwrap();
    assert_eq!(scores.rows.len(), 10);

    let rows = misclassified_rows(&ds, &fit.labels, &[], 8, 2).unwrap();
    assert_eq!(rows.len(), 10);
    for (t, row) in rows.iter().enumerate() {
        assert!(row.images.len() <= 8);
        let wrong = labels
            .iter()
            .zip(&fit.labels)
            .filter(|&(&l, &p)| l as usize == t && l != p)
            .count();
        assert_eq!(row.images.len(), wrong.min(8));
        assert_eq!(
            row.label.as_deref(),
            Some(format!("true {t}\n{wrong} wrong").as_str())
        );
        for img in &row.images {
            assert!(img.alt.starts_with(&format!("true {t} → predicted ")));
            assert_eq!((img.width, img.height), (40, 40));
            assert_eq!(png_dims(&img.png), (20, 20));
        }
    }

    let centers = value_images(&fit.centers, 10, 20, 20, Colormap::Viridis, &[], 3).unwrap();
    assert_eq!(centers.images.len(), 10);
    let html = Report::new("digits")
        .section(Section::new("centers").block(Block::ImageGrid(vec![centers])))
        .section(Section::new("misclassified").block(Block::ImageGrid(rows)))
        .section(Section::new("confusion").block(Block::Table(conf)))
        .to_html();
    maybe_save("test_digits_report.html", &html);
    for png in embedded_pngs(&html) {
        assert_eq!(png_dims(&png), (20, 20));
    }
}

#[test]
fn blocks_reject_inconsistent_input() {
    let ds = Dataset::from_images(2, 1, 1, vec![0, 1]).unwrap();
    // No labels: no misclassified samples to show.
    assert!(misclassified_rows(&ds, &[0, 0], &[], 8, 1).is_err());
    assert!(cluster_means(&ds, &[0, 0], 0).is_err());
    assert!(value_images(&[0.0; 3], 2, 1, 1, Colormap::Gray, &[], 1).is_err());
    assert!(value_images(&[0.0; 2], 2, 1, 1, Colormap::Gray, &["a".into()], 1).is_err());
}
