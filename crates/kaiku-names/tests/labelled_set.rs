//! Precision and recall of the NameFinder on the labelled sets, with the floor the product
//! needs: names must rarely get through (recall), and feedback must stay readable
//! (precision). `cargo run -p kaiku-names --bin name-eval` lists every miss.

use kaiku_names::NameFinder;
use kaiku_names::eval::{HELDOUT_SET, LABELLED_SET, evaluate, parse};

const MIN_PRECISION: f64 = 0.90;
const MIN_RECALL: f64 = 0.85;

fn assert_good_enough(set: &str) {
    let finder = NameFinder::load().expect("libvoikko1 and voikko-fi are installed");
    let sentences = parse(set).expect("the labelled set is well formed");
    let report = evaluate(&sentences, |text| finder.find(text));
    println!("{report}");
    let (precision, recall) = (report.total.precision(), report.total.recall());
    assert!(
        precision >= MIN_PRECISION,
        "precision {precision:.3} is below {MIN_PRECISION}"
    );
    assert!(
        recall >= MIN_RECALL,
        "recall {recall:.3} is below {MIN_RECALL}"
    );
}

#[test]
fn names_in_the_labelled_set_are_found_with_enough_precision_and_recall() {
    assert_good_enough(LABELLED_SET);
}

#[test]
fn names_in_the_held_out_set_are_found_with_enough_precision_and_recall() {
    assert_good_enough(HELDOUT_SET);
}
