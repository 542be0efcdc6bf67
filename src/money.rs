//! Money: an integer amount in minor units plus an ISO 4217 code. Never a float.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use validator::{Validate, ValidationError};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Validate, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"amount_minor": 125000, "currency": "IDR"}))]
pub struct Money {
    /// The amount in the currency's minor unit (cents, sen…).
    #[schema(example = 125000)]
    pub amount_minor: i64,
    /// ISO 4217 code, upper case.
    #[validate(custom(function = "valid_currency"))]
    #[schema(example = "IDR", min_length = 3, max_length = 3)]
    pub currency: String,
}

fn valid_currency(code: &str) -> Result<(), ValidationError> {
    iso_currency::Currency::from_code(code).map(|_| ()).ok_or_else(|| {
        ValidationError::new("currency").with_message("must be an ISO 4217 code in upper case, e.g. IDR".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn currencies_are_checked_against_iso_4217() {
        assert!(valid_currency("IDR").is_ok());
        assert!(valid_currency("EUR").is_ok());
        assert!(valid_currency("idr").is_err());
        assert!(valid_currency("XYZ").is_err());
        assert!(valid_currency("").is_err());
    }
}
