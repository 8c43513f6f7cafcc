//! What a staff member may do in Kaiku, as the scopes of the tokens the console calls the
//! services with. Two roles cover the users DOMAIN.md names; the grant of units narrows both.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StaffRole {
    /// Sees results and open feedback of their units, runs results reviews, downloads reports.
    UnitManager,
    /// Also sets up surveys, periods and units (the county's customer-experience staff).
    CountyStaff,
}

impl StaffRole {
    /// The scope claims of the role's service tokens.
    pub fn scopes(self) -> &'static [&'static str] {
        match self {
            // No kaiku.export: a manager reads figures and texts as a reader, from whole groups
            // of at least the minimum (ADR 0018), never row by row.
            StaffRole::UnitManager => &["kaiku.analytics-read", "kaiku.handle"],
            StaffRole::CountyStaff => &[
                "kaiku.analytics-read",
                "kaiku.export",
                "kaiku.handle",
                "kaiku.survey-admin",
            ],
        }
    }

    pub fn sets_up_surveys(self) -> bool {
        self == StaffRole::CountyStaff
    }

    /// The role a county's identity provider gives in its `kaiku_role` claim.
    pub fn from_claim(value: &str) -> Option<StaffRole> {
        match value {
            "unit-manager" => Some(StaffRole::UnitManager),
            "county-staff" => Some(StaffRole::CountyStaff),
            _ => None,
        }
    }
}
