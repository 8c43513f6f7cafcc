//! The charts, drawn by plotters: SVG for the pages (text stays text, so it scales and the
//! browser renders it) and RGB pixels for the PDF report, from the same drawing code. Every
//! chart on a page also has its figures as a table (the charts are for seeing a shape; the
//! tables are what screen readers and the test read).

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::error::ConsoleError;

/// Bars with a label each; `None` is a suppressed or empty group (no bar, marked in its label).
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub labels: Vec<String>,
    pub values: Vec<Option<f64>>,
    /// The value axis, e.g. 0..5 for statement means, 0..100 for shares.
    pub range: (f64, f64),
}

/// NPS per time bucket with its confidence interval; `None` where the bucket is suppressed.
#[derive(Debug, Clone)]
pub struct NpsTrend {
    pub title: String,
    pub labels: Vec<String>,
    /// (nps, ci_low, ci_high)
    pub points: Vec<Option<(f64, f64, f64)>>,
}

#[derive(Debug, Clone)]
pub enum Chart {
    Bars(BarChart),
    Trend(NpsTrend),
}

pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 300;

const BAR: RGBColor = RGBColor(11, 79, 163);
const BAND: RGBColor = RGBColor(190, 210, 238);

/// A bucket's position and its (nps, ci_low, ci_high).
type TrendPoint = (f64, (f64, f64, f64));

static FONT: OnceLock<()> = OnceLock::new();

/// Registers the font plotters measures (and, for pixels, draws) text with. Once per process;
/// the bytes live as long as the process.
pub fn register_font(bytes: Vec<u8>) -> Result<(), ConsoleError> {
    if FONT.get().is_some() {
        return Ok(());
    }
    let bytes: &'static [u8] = Box::leak(bytes.into_boxed_slice());
    plotters::style::register_font("sans-serif", FontStyle::Normal, bytes)
        .map_err(|_| ConsoleError::Config("KAIKU_CONSOLE_FONT is not a TrueType font".into()))?;
    let _ = FONT.set(());
    Ok(())
}

impl Chart {
    pub fn title(&self) -> &str {
        match self {
            Chart::Bars(c) => &c.title,
            Chart::Trend(c) => &c.title,
        }
    }

    /// The chart as an SVG element with an accessible name.
    pub fn to_svg(&self) -> Result<String, ConsoleError> {
        let mut svg = String::new();
        {
            let root = SVGBackend::with_string(&mut svg, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(chart_error)?;
        }
        let name = escape_attribute(self.title());
        Ok(svg.replacen(
            "<svg ",
            &format!("<svg role=\"img\" aria-label=\"{name}\" focusable=\"false\" "),
            1,
        ))
    }

    /// The chart as 8-bit RGB pixels, twice the page size for print.
    pub fn to_raster(&self) -> Result<kaiku_print::RasterChart, ConsoleError> {
        let (width, height) = (WIDTH * 2, HEIGHT * 2);
        let mut rgb = vec![255u8; (width * height * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (width, height)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(chart_error)?;
        }
        Ok(kaiku_print::RasterChart { rgb, width, height })
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), ConsoleError> {
        root.fill(&WHITE).map_err(chart_error)?;
        let (w, _) = root.dim_in_pixel();
        // Sizes in proportion to the canvas, so the raster copy looks like the page's.
        let scale = w as f64 / WIDTH as f64;
        let font = ("sans-serif", (14.0 * scale) as u32).into_font();
        match self {
            Chart::Bars(chart) => draw_bars(root, chart, &font, scale),
            Chart::Trend(chart) => draw_trend(root, chart, &font, scale),
        }
    }
}

fn chart_error(e: impl std::fmt::Display) -> ConsoleError {
    ConsoleError::Chart(e.to_string())
}

fn escape_attribute(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn draw_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &BarChart,
    font: &FontDesc,
    scale: f64,
) -> Result<(), ConsoleError> {
    let mut context = axes(root, &chart.labels, chart.range, font, scale)?;
    let floor = chart.range.0.max(0.0);
    let bars = chart.values.iter().enumerate().filter_map(|(i, v)| {
        v.map(|value| {
            let x = i as f64;
            Rectangle::new(
                [(x - 0.35, floor.min(value)), (x + 0.35, value.max(floor))],
                BAR.filled(),
            )
        })
    });
    context.draw_series(bars).map_err(chart_error)?;
    Ok(())
}

/// The plotting area: categories 0..n on x (labelled), `range` on y, light horizontal lines.
fn axes<'a, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    labels: &'a [String],
    range: (f64, f64),
    font: &FontDesc<'a>,
    scale: f64,
) -> Result<ChartContext<'a, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>, ConsoleError> {
    let count = labels.len().max(1);
    let mut context = ChartBuilder::on(root)
        .margin((10.0 * scale) as u32)
        .x_label_area_size((34.0 * scale) as u32)
        .y_label_area_size((44.0 * scale) as u32)
        .build_cartesian_2d(-0.5f64..(count as f64 - 0.5), range.0..range.1)
        .map_err(chart_error)?;
    let x_formatter = |x: &f64| label_at(labels, *x);
    let y_formatter = |y: &f64| axis_number(*y, range);
    context
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(count * 2 + 1)
        .x_label_formatter(&x_formatter)
        .y_label_formatter(&y_formatter)
        .label_style(font.clone())
        .axis_style(BLACK)
        .light_line_style(WHITE)
        .bold_line_style(RGBColor(200, 200, 200))
        .draw()
        .map_err(chart_error)?;
    Ok(context)
}

/// The label of the category at `x`, on whole numbers only.
fn label_at(labels: &[String], x: f64) -> String {
    let index = x.round();
    if (x - index).abs() < 0.01 && index >= 0.0 {
        labels.get(index as usize).cloned().unwrap_or_default()
    } else {
        String::new()
    }
}

/// Whole numbers on wide axes (NPS, counts, shares), one decimal on the 1-5 scale.
fn axis_number(value: f64, range: (f64, f64)) -> String {
    if range.1 - range.0 >= 10.0 {
        format!("{value:.0}")
    } else {
        format!("{value:.1}")
    }
}

fn draw_trend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    chart: &NpsTrend,
    font: &FontDesc,
    scale: f64,
) -> Result<(), ConsoleError> {
    let mut context = axes(root, &chart.labels, (-100.0, 100.0), font, scale)?;
    // Each run of consecutive shown buckets gets its own band and line: a suppressed month is a
    // gap, never a line drawn through it.
    let mut runs: Vec<Vec<TrendPoint>> = vec![Vec::new()];
    for (i, point) in chart.points.iter().enumerate() {
        match point {
            Some(p) => runs.last_mut().map_or((), |run| run.push((i as f64, *p))),
            None => runs.push(Vec::new()),
        }
    }
    for run in runs.iter().filter(|r| !r.is_empty()) {
        let band: Vec<(f64, f64)> = run
            .iter()
            .map(|(x, (_, _, high))| (*x, *high))
            .chain(run.iter().rev().map(|(x, (_, low, _))| (*x, *low)))
            .collect();
        if run.len() > 1 {
            context
                .draw_series(std::iter::once(Polygon::new(band, BAND.filled())))
                .map_err(chart_error)?;
        }
        context
            .draw_series(LineSeries::new(
                run.iter().map(|(x, (nps, _, _))| (*x, *nps)),
                BAR.stroke_width((2.0 * scale) as u32),
            ))
            .map_err(chart_error)?;
        context
            .draw_series(run.iter().map(|(x, (_, low, high))| {
                PathElement::new(vec![(*x, *low), (*x, *high)], BAR.stroke_width(1))
            }))
            .map_err(chart_error)?;
        context
            .draw_series(run.iter().map(|(x, (nps, _, _))| {
                Circle::new((*x, *nps), (4.0 * scale) as i32, BAR.filled())
            }))
            .map_err(chart_error)?;
    }
    Ok(())
}
