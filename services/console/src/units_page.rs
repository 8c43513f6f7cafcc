//! Organisation units for the county's staff: the tree, a new unit, and renaming one (in every
//! language). Units belong to survey-definition; this only calls it.

use kaiku_proto::survey::v1::{Language, Unit, UnitLevel};
use maud::{Markup, html};

use crate::figures::{VisibleUnit, text_in};
use crate::surveys_page::problems;
use crate::texts::Texts;

pub const LANGUAGES: [Language; 3] = [Language::Fi, Language::Sv, Language::En];

pub fn level_name(t: &Texts, level: i32) -> &'static str {
    match UnitLevel::try_from(level).unwrap_or_default() {
        UnitLevel::County => t.level_county,
        UnitLevel::ServiceArea => t.level_area,
        UnitLevel::Unit | UnitLevel::Unspecified => t.level_unit,
    }
}

fn name_fields(t: &Texts, unit: Option<&Unit>) -> Markup {
    html! {
        @for l in LANGUAGES {
            @let code = kaiku_domain::codes::language_code(l);
            @let current = unit.map(|u| u.names.iter().find(|n| n.language == l as i32).map(|n| n.text.clone()).unwrap_or_default()).unwrap_or_default();
            div.field {
                label for={ "name-" (code) } { (t.name_in) " (" (t.language_name(l)) ")" }
                input id={ "name-" (code) } name={ "name_" (code) } type="text" maxlength="200" value=(current);
            }
        }
    }
}

pub fn units_body(t: &Texts, units: &[VisibleUnit], csrf: &str, refused: &[String]) -> Markup {
    let language = t.language_enum;
    html! {
        h1 { (t.units_title) }
        table id="units" {
            thead { tr { th scope="col" { (t.unit) } th scope="col" { (t.unit_id) } th scope="col" { (t.level) } th scope="col" { (t.rename) } } }
            tbody {
                @for u in units {
                    tr data-unit=(u.unit.unit_id) {
                        th scope="row" { ("\u{a0}\u{a0}\u{a0}".repeat(u.depth)) (text_in(&u.unit.names, language)) }
                        td { (u.unit.unit_id) }
                        td { (level_name(t, u.unit.level)) }
                        td { a href={ "/units/" (u.unit.unit_id) } aria-label={ (t.rename) ": " (u.name) } { (t.rename) } }
                    }
                }
            }
        }
        h2 id="new-unit-heading" { (t.new_unit) }
        (problems(t, refused))
        form method="post" action="/units" id="new-unit" aria-labelledby="new-unit-heading" {
            input type="hidden" name="csrf" value=(csrf);
            div.field { label for="unit-id" { (t.unit_id) } input id="unit-id" name="unit_id" type="text" maxlength="64" required; }
            div.field {
                label for="parent" { (t.parent_unit) }
                select id="parent" name="parent" {
                    option value="" { (t.none) }
                    @for u in units { option value=(u.unit.unit_id) { (u.name) } }
                }
            }
            div.field {
                label for="level" { (t.level) }
                select id="level" name="level" {
                    @for level in [UnitLevel::Unit, UnitLevel::ServiceArea, UnitLevel::County] {
                        option value=(level.as_str_name()) { (level_name(t, level as i32)) }
                    }
                }
            }
            (name_fields(t, None))
            p { button type="submit" { (t.create_unit) } }
        }
    }
}

pub fn unit_body(t: &Texts, unit: &Unit, csrf: &str, refused: &[String]) -> Markup {
    html! {
        h1 { (t.rename) ": " (text_in(&unit.names, t.language_enum)) }
        (problems(t, refused))
        form method="post" action={ "/units/" (unit.unit_id) "/rename" } id="rename-unit" {
            input type="hidden" name="csrf" value=(csrf);
            input type="hidden" name="revision" value=(unit.revision);
            (name_fields(t, Some(unit)))
            p { button type="submit" { (t.save) } }
        }
        p { a href="/units" { (t.back) } }
    }
}
