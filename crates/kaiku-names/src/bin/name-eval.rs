//! `cargo run -p kaiku-names --bin name-eval`: scores the NameFinder on the labelled, held-out
//! and adversarial sets (testdata/names_*.tsv) and prints precision, recall and every word it
//! got wrong.
//! With `--time`, also the time to find names in a 300-character text.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use kaiku_names::NameFinder;
use kaiku_names::eval::{ADVERSARIAL_SET, HELDOUT_SET, LABELLED_SET, evaluate, parse};

fn main() -> ExitCode {
    let finder = match NameFinder::load() {
        Ok(finder) => finder,
        Err(error) => {
            eprintln!("name-eval: {error}");
            return ExitCode::FAILURE;
        }
    };
    for (title, set) in [
        (
            "labelled set (testdata/names_labelled.tsv, used in development)",
            LABELLED_SET,
        ),
        ("held-out set (testdata/names_heldout.tsv)", HELDOUT_SET),
        (
            "adversarial set (testdata/names_adversarial.tsv, an outside tester's attempts)",
            ADVERSARIAL_SET,
        ),
    ] {
        let sentences = match parse(set) {
            Ok(sentences) => sentences,
            Err(error) => {
                eprintln!("name-eval: {title}: {error}");
                return ExitCode::FAILURE;
            }
        };
        println!("== {title}");
        print!("{}", evaluate(&sentences, |text| finder.find(text)));
    }
    if std::env::args().any(|arg| arg == "--time") {
        time(&finder);
    }
    ExitCode::SUCCESS
}

/// Time to find names in a 300-character open answer of the usual kind: cold (a fresh
/// finder, every word new to its cache: the cost for an unusual text) and warm (every word
/// already analysed once: the cost for text made of frequent words).
fn time(finder: &NameFinder) {
    const TEXT: &str = "Kiitos kuraattori Liisa Virtaselle, hän kuunteli oikeasti ja auttoi \
        poikaani Onnia koulukiusaamisen kanssa. Maanantaisin oli vaikea saada aikaa, mutta \
        Wilmassa vastattiin nopeasti. Toivoisin, että Helsingissä olisi enemmän kuraattoreita \
        ja että psykologille pääsisi nopeammin kuin kolmen kuukauden päästä. Matille terveisiä!";
    const COLD_RUNS: u32 = 20;
    const WARM_RUNS: u32 = 2_000;
    let mut cold = Duration::ZERO;
    for _ in 0..COLD_RUNS {
        let Ok(fresh) = NameFinder::load() else {
            return;
        };
        let started = Instant::now();
        fresh.find(TEXT);
        cold += started.elapsed();
    }
    for _ in 0..100 {
        finder.find(TEXT);
    }
    let started = Instant::now();
    for _ in 0..WARM_RUNS {
        finder.find(TEXT);
    }
    let warm = started.elapsed() / WARM_RUNS;
    println!(
        "time per {}-character text, one thread: cold {:?} (mean of {COLD_RUNS}), warm {:?} \
         (mean of {WARM_RUNS})",
        TEXT.chars().count(),
        cold / COLD_RUNS,
        warm
    );
}
