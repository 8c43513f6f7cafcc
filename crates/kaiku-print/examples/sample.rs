//! Writes a sample paper form and poster to the given folder, to look at by eye:
//! `cargo run -p kaiku-print --example sample -- /tmp/out`.
use kaiku_print::*;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::env::args().nth(1).unwrap_or_else(|| ".".into());
    let link = "http://127.0.0.1:8080/f/v1.k1.eyJzIjoiMDE5MmFiY2QtMTIzNC03ODkwLWFiY2QtZWYwMTIzNDU2Nzg5In0.c2lnbmF0dXJlc2lnbmF0dXJlc2lnbmF0dXJlc2ln";
    let form = PaperForm {
        language: "fi".into(),
        title: "Opiskeluhuollon asiakaspalaute".into(),
        unit_line: "Yksikkö: Keskuskoulu, kuraattori".into(),
        instructions: "Rastita kuhunkin kysymykseen yksi ruutu. Älä kirjoita lomakkeeseen nimeäsi tai muita henkilötietoja.".into(),
        questions: vec![
            PrintQuestion { text: "Kuinka todennäköisesti suosittelisit saamaasi palvelua ystävällesi tai perheenjäsenellesi, jos hän tarvitsisi vastaavia palveluja?".into(), layout: AnswerLayout::Nps { low: "en lainkaan todennäköisesti".into(), high: "erittäin todennäköisesti".into() } },
            PrintQuestion { text: "Minua kohdeltiin arvostavasti.".into(), layout: AnswerLayout::Statement { scale: ["täysin eri mieltä","jokseenkin eri mieltä","ei samaa eikä eri mieltä","jokseenkin samaa mieltä","täysin samaa mieltä"].map(String::from), dont_know: Some("en osaa sanoa".into()) } },
            PrintQuestion { text: "Miltä käynti tuntui?".into(), layout: AnswerLayout::Faces { labels: ["tosi huono","huono","ei hyvä eikä huono","hyvä","tosi hyvä"].map(String::from).to_vec() } },
            PrintQuestion { text: "Mitä muuta haluat sanoa?".into(), layout: AnswerLayout::OpenText { lines: 5 } },
        ],
        phone_link: link.into(),
        phone_caption: "Vastaa mieluummin puhelimella? Skannaa koodi.".into(),
        return_note: "Palauta lomake suljetussa kirjekuoressa.".into(),
    };
    std::fs::write(format!("{dir}/paper.pdf"), paper_form_pdf(&form)?)?;
    let poster = Poster {
        language: "fi".into(),
        title: "Anna palautetta".into(),
        unit_line: "Keskuskoulu, kuraattori".into(),
        sections: vec![
            PosterSection { heading: "Anna palautetta".into(), instructions: "Skannaa koodi puhelimella ja vastaa muutamaan kysymykseen. Vastaat nimettömänä.".into() },
            PosterSection { heading: "Ge respons".into(), instructions: "Skanna koden med telefonen och svara på några frågor. Du svarar anonymt.".into() },
        ],
        link: link.into(),
    };
    std::fs::write(format!("{dir}/poster.pdf"), poster_pdf(&poster)?)?;
    Ok(())
}
