//! A small flowing-layout PDF writer over pdf-writer: A4 pages, text that wraps and moves to the
//! next page, boxes, faces and QR codes. Enough for posters and paper forms, nothing more.

use pdf_writer::{Content, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

use crate::metrics::{text_width, win_ansi, wrap};
use crate::qr::{QUIET_ZONE, QrMatrix};

pub(crate) const PAGE_WIDTH: f32 = 595.0;
pub(crate) const PAGE_HEIGHT: f32 = 842.0;
pub(crate) const MARGIN: f32 = 50.0;
pub(crate) const CONTENT_WIDTH: f32 = PAGE_WIDTH - 2.0 * MARGIN;

const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

#[derive(Clone, Copy)]
pub(crate) enum Weight {
    Regular,
    Bold,
}

impl Weight {
    fn is_bold(self) -> bool {
        matches!(self, Weight::Bold)
    }

    fn font(self) -> Name<'static> {
        match self {
            Weight::Regular => REGULAR,
            Weight::Bold => BOLD,
        }
    }
}

/// A raster image (a chart) as the PDF stores it: 8-bit RGB, zlib-compressed.
struct Image {
    zlib_rgb: Vec<u8>,
    width: u32,
    height: u32,
}

/// Pages under construction; `y` is the top of the free space on the current page.
pub(crate) struct Document {
    title: String,
    language: String,
    pages: Vec<Content>,
    current: Content,
    images: Vec<Image>,
    pub(crate) y: f32,
}

impl Document {
    /// `language` is a BCP 47 tag ("fi", "sv", "en") that screen readers use for the text.
    pub(crate) fn new(title: &str, language: &str) -> Document {
        Document {
            title: title.to_owned(),
            language: language.to_owned(),
            pages: Vec::new(),
            current: Content::new(),
            images: Vec::new(),
            y: PAGE_HEIGHT - MARGIN,
        }
    }

    /// An RGB image (`rgb`: width x height x 3 bytes) at the cursor, `draw_width` points wide
    /// and as high as its proportions ask, on a new page when it does not fit.
    pub(crate) fn image(&mut self, rgb: &[u8], width: u32, height: u32, draw_width: f32) {
        let draw_height = draw_width * height as f32 / width.max(1) as f32;
        self.ensure_space(draw_height);
        self.y -= draw_height;
        self.images.push(Image {
            zlib_rgb: miniz_oxide::deflate::compress_to_vec_zlib(rgb, 6),
            width,
            height,
        });
        let name = image_name(self.images.len() - 1);
        self.current
            .save_state()
            .transform([draw_width, 0.0, 0.0, draw_height, MARGIN, self.y])
            .x_object(Name(name.as_bytes()))
            .restore_state();
    }

    pub(crate) fn new_page(&mut self) {
        let page = std::mem::replace(&mut self.current, Content::new());
        self.pages.push(page);
        self.y = PAGE_HEIGHT - MARGIN;
    }

    /// Starts a new page unless `height` points still fit above the bottom margin.
    pub(crate) fn ensure_space(&mut self, height: f32) {
        if self.y - height < MARGIN {
            self.new_page();
        }
    }

    pub(crate) fn gap(&mut self, points: f32) {
        self.y -= points;
    }

    /// One line of text with its baseline at (x, baseline).
    pub(crate) fn text_at(&mut self, x: f32, baseline: f32, size: f32, weight: Weight, text: &str) {
        let bytes = win_ansi(text);
        self.current
            .set_fill_rgb(0.0, 0.0, 0.0)
            .begin_text()
            .set_font(weight.font(), size)
            .next_line(x, baseline);
        self.current.show(Str(&bytes));
        self.current.end_text();
    }

    /// A wrapped paragraph at the cursor, `indent` points from the left margin.
    pub(crate) fn paragraph(&mut self, text: &str, size: f32, weight: Weight, indent: f32) {
        let leading = size * 1.3;
        for line in wrap(text, size, weight.is_bold(), CONTENT_WIDTH - indent) {
            self.ensure_space(leading);
            self.y -= size;
            self.text_at(MARGIN + indent, self.y, size, weight, &line);
            self.y -= leading - size;
        }
    }

    /// A wrapped paragraph centred on the page.
    pub(crate) fn centred(&mut self, text: &str, size: f32, weight: Weight) {
        let leading = size * 1.3;
        for line in wrap(text, size, weight.is_bold(), CONTENT_WIDTH) {
            self.ensure_space(leading);
            self.y -= size;
            let x = (PAGE_WIDTH - text_width(&line, size, weight.is_bold())) / 2.0;
            self.text_at(x, self.y, size, weight, &line);
            self.y -= leading - size;
        }
    }

    /// Lines of the wrapped text, for callers that place them themselves.
    pub(crate) fn wrapped(text: &str, size: f32, weight: Weight, width: f32) -> Vec<String> {
        wrap(text, size, weight.is_bold(), width)
    }

    pub(crate) fn width_of(text: &str, size: f32, weight: Weight) -> f32 {
        text_width(text, size, weight.is_bold())
    }

    /// An empty tick box with its lower-left corner at (x, y).
    pub(crate) fn tick_box(&mut self, x: f32, y: f32, side: f32) {
        self.current
            .save_state()
            .set_stroke_rgb(0.0, 0.0, 0.0)
            .set_line_width(1.5)
            .rect(x, y, side, side)
            .stroke()
            .restore_state();
    }

    /// A horizontal rule for handwriting.
    pub(crate) fn rule(&mut self, x: f32, y: f32, width: f32) {
        self.current
            .save_state()
            .set_stroke_rgb(0.35, 0.35, 0.35)
            .set_line_width(0.75)
            .move_to(x, y)
            .line_to(x + width, y)
            .stroke()
            .restore_state();
    }

    /// A face of diameter `d` centred at (cx, cy); `mood` from -1.0 (sad) to 1.0 (happy).
    pub(crate) fn face(&mut self, cx: f32, cy: f32, d: f32, mood: f32) {
        let r = d / 2.0;
        // A circle as four Bézier arcs (k = 4/3 (sqrt 2 - 1)).
        let k = 0.552_284_8 * r;
        let c = &mut self.current;
        c.save_state()
            .set_stroke_rgb(0.0, 0.0, 0.0)
            .set_line_width(1.5);
        c.move_to(cx + r, cy)
            .cubic_to(cx + r, cy + k, cx + k, cy + r, cx, cy + r)
            .cubic_to(cx - k, cy + r, cx - r, cy + k, cx - r, cy)
            .cubic_to(cx - r, cy - k, cx - k, cy - r, cx, cy - r)
            .cubic_to(cx + k, cy - r, cx + r, cy - k, cx + r, cy)
            .close_path()
            .stroke();
        // Eyes.
        let eye = r * 0.14;
        for ex in [cx - r * 0.35, cx + r * 0.35] {
            c.set_fill_rgb(0.0, 0.0, 0.0)
                .rect(ex - eye / 2.0, cy + r * 0.25, eye, eye * 1.4)
                .fill_nonzero();
        }
        // Mouth: a curve bending up for happy, down for sad.
        let mouth_y = cy - r * 0.35;
        let bend = mood * r * 0.35;
        c.move_to(cx - r * 0.45, mouth_y + bend * 0.3)
            .cubic_to(
                cx - r * 0.2,
                mouth_y - bend,
                cx + r * 0.2,
                mouth_y - bend,
                cx + r * 0.45,
                mouth_y + bend * 0.3,
            )
            .stroke();
        c.restore_state();
    }

    /// A QR code of `size` points (quiet zone included) with its lower-left corner at (x, y).
    pub(crate) fn qr(&mut self, code: &QrMatrix, x: f32, y: f32, size: f32) {
        let modules = (code.width() + 2 * QUIET_ZONE) as f32;
        let module = size / modules;
        let top = y + size;
        self.current.save_state().set_fill_rgb(0.0, 0.0, 0.0);
        for (mx, my, len) in code.dark_runs() {
            let left = x + (mx + QUIET_ZONE) as f32 * module;
            let row_top = top - (my + QUIET_ZONE) as f32 * module;
            self.current
                .rect(left, row_top - module, len as f32 * module, module);
        }
        self.current.fill_nonzero().restore_state();
    }

    pub(crate) fn finish(mut self) -> Vec<u8> {
        let last = std::mem::replace(&mut self.current, Content::new());
        self.pages.push(last);

        let mut pdf = Pdf::new();
        let catalog_id = Ref::new(1);
        let tree_id = Ref::new(2);
        let regular_id = Ref::new(3);
        let bold_id = Ref::new(4);
        let info_id = Ref::new(5);
        let first_page = 6;
        let page_ids: Vec<Ref> = (0..self.pages.len())
            .map(|i| Ref::new(first_page + 2 * i as i32))
            .collect();
        let first_image = first_page + 2 * self.pages.len() as i32;
        let image_ids: Vec<Ref> = (0..self.images.len())
            .map(|i| Ref::new(first_image + i as i32))
            .collect();

        let mut catalog = pdf.catalog(catalog_id);
        catalog.pages(tree_id);
        catalog.lang(TextStr(&self.language));
        catalog.viewer_preferences().display_doc_title(true);
        catalog.finish();
        pdf.document_info(info_id)
            .title(TextStr(&self.title))
            .producer(TextStr("Kaiku"));
        pdf.pages(tree_id)
            .kids(page_ids.iter().copied())
            .count(page_ids.len() as i32);
        for (name, id) in [
            (b"Helvetica".as_slice(), regular_id),
            (b"Helvetica-Bold".as_slice(), bold_id),
        ] {
            pdf.type1_font(id)
                .base_font(Name(name))
                .encoding_predefined(Name(b"WinAnsiEncoding"));
        }
        for (content, page_id) in self.pages.into_iter().zip(&page_ids) {
            let content_id = Ref::new(page_id.get() + 1);
            let mut page = pdf.page(*page_id);
            page.media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT));
            page.parent(tree_id);
            page.contents(content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(REGULAR, regular_id);
            fonts.pair(BOLD, bold_id);
            fonts.finish();
            if !image_ids.is_empty() {
                let mut objects = resources.x_objects();
                for (i, id) in image_ids.iter().enumerate() {
                    let name = image_name(i);
                    objects.pair(Name(name.as_bytes()), *id);
                }
                objects.finish();
            }
            resources.finish();
            page.finish();
            pdf.stream(content_id, &content.finish());
        }
        for (image, id) in self.images.iter().zip(&image_ids) {
            let mut xobject = pdf.image_xobject(*id, &image.zlib_rgb);
            xobject.filter(Filter::FlateDecode);
            xobject.width(image.width as i32);
            xobject.height(image.height as i32);
            xobject.color_space().device_rgb();
            xobject.bits_per_component(8);
            xobject.finish();
        }
        pdf.finish()
    }
}

fn image_name(index: usize) -> String {
    format!("Im{}", index + 1)
}
