//! Precision and recall of the NameFinder on the labelled sets (development, held-out and an
//! outside tester's adversarial sentences), with the floor the product needs: names must
//! rarely get through (recall), and feedback must stay readable (precision).
//! `cargo run -p kaiku-names --bin name-eval` lists every miss.

use kaiku_names::NameFinder;
use kaiku_names::eval::{ADVERSARIAL_SET, HELDOUT_SET, LABELLED_SET, Report, evaluate, parse};

const MIN_PRECISION: f64 = 0.90;
const MIN_RECALL: f64 = 0.85;

/// Scores the finder on `set` and prints the report (`--no-capture` shows it on a pass).
fn report(set: &str) -> Report {
    let finder = NameFinder::load().expect("libvoikko1 and voikko-fi are installed");
    let sentences = parse(set).expect("the labelled set is well formed");
    let report = evaluate(&sentences, |text| finder.find(text));
    println!("{report}");
    report
}

fn assert_recall(report: &Report) {
    let recall = report.total.recall();
    assert!(
        recall >= MIN_RECALL,
        "recall {recall:.3} is below {MIN_RECALL}"
    );
}

fn assert_precision(report: &Report) {
    let precision = report.total.precision();
    assert!(
        precision >= MIN_PRECISION,
        "precision {precision:.3} is below {MIN_PRECISION}"
    );
}

#[test]
fn names_in_the_labelled_set_are_found_with_enough_precision_and_recall() {
    let report = report(LABELLED_SET);
    assert_precision(&report);
    assert_recall(&report);
}

#[test]
fn names_in_the_held_out_set_are_found_with_enough_precision_and_recall() {
    let report = report(HELDOUT_SET);
    assert_precision(&report);
    assert_recall(&report);
}

#[test]
fn names_in_the_adversarial_set_are_found_with_enough_recall() {
    let report = report(ADVERSARIAL_SET);
    assert_recall(&report);
    // Precision is printed, not asserted. This set is made of look-alikes chosen to tempt the
    // finder (mottos of everyday-word names, "Faith, Hope and Joy.", a weather report), and the
    // finder errs towards removing a word on purpose: a name left in costs a respondent's
    // privacy, a word removed only costs readability. Its precision says how far that choice
    // goes on the worst cases; the labelled and held-out sets keep the floor for ordinary text.
    println!(
        "adversarial precision {:.3} (reported, not asserted)",
        report.total.precision()
    );
}
