//! Consent with its legal basis (contracts/privacy.md): the purposes, the
//! bases each allows when granted, and how a consent was captured. Pure
//! rules, tested over every purpose × basis pair.

use super::dto::Consents;

text_enum! {
    /// A processing purpose a stakeholder consents to (or objects to).
    pub enum Purpose {
        MarketingEmail = "marketing_email", MarketingSms = "marketing_sms", MarketingPhone = "marketing_phone",
        Profiling = "profiling", SensitiveData = "sensitive_data",
    }
}

text_enum! {
    /// GDPR Art. 6(1)(a–f) and, for special-category data, Art. 9(2)(a).
    pub enum LegalBasis {
        Consent = "consent", ExplicitConsent = "explicit_consent", Contract = "contract",
        LegalObligation = "legal_obligation", VitalInterests = "vital_interests", PublicTask = "public_task",
        LegitimateInterests = "legitimate_interests",
    }
}

text_enum! {
    /// How a consent was captured. `import` and `erasure` are set by the server only.
    pub enum ConsentSource {
        Api = "api", WebForm = "web_form", MobileApp = "mobile_app", InPerson = "in_person", Phone = "phone",
        Email = "email", Letter = "letter", Partner = "partner", Import = "import", Erasure = "erasure",
    }
}

impl Purpose {
    /// The basis recorded when none is given.
    pub fn default_basis(self) -> LegalBasis {
        match self {
            Purpose::SensitiveData => LegalBasis::ExplicitConsent,
            _ => LegalBasis::Consent,
        }
    }

    /// The bases a grant of this purpose may rest on.
    pub fn bases_when_granting(self) -> &'static [LegalBasis] {
        match self {
            Purpose::SensitiveData => &[LegalBasis::ExplicitConsent],
            _ => &[LegalBasis::Consent, LegalBasis::LegitimateInterests],
        }
    }
}

impl ConsentSource {
    /// Only the server records these (an import, an erasure).
    pub fn server_only(self) -> bool {
        matches!(self, ConsentSource::Import | ConsentSource::Erasure)
    }
}

impl Consents {
    pub fn of(&self, p: Purpose) -> bool {
        match p {
            Purpose::MarketingEmail => self.marketing_email,
            Purpose::MarketingSms => self.marketing_sms,
            Purpose::MarketingPhone => self.marketing_phone,
            Purpose::Profiling => self.profiling,
            Purpose::SensitiveData => self.sensitive_data,
        }
    }

    pub fn set(&mut self, p: Purpose, value: bool) {
        match p {
            Purpose::MarketingEmail => self.marketing_email = value,
            Purpose::MarketingSms => self.marketing_sms = value,
            Purpose::MarketingPhone => self.marketing_phone = value,
            Purpose::Profiling => self.profiling = value,
            Purpose::SensitiveData => self.sensitive_data = value,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_purpose_and_basis() {
        for &p in Purpose::ALL {
            assert!(p.bases_when_granting().contains(&p.default_basis()), "{p}: its default is allowed");
            for &b in LegalBasis::ALL {
                let allowed = match p {
                    Purpose::SensitiveData => b == LegalBasis::ExplicitConsent,
                    _ => matches!(b, LegalBasis::Consent | LegalBasis::LegitimateInterests),
                };
                assert_eq!(p.bases_when_granting().contains(&b), allowed, "{p} on {b}");
            }
        }
    }

    #[test]
    fn consents_read_and_write_each_purpose() {
        for &p in Purpose::ALL {
            let mut c = Consents::default();
            c.set(p, true);
            assert!(c.of(p));
            assert_eq!(Purpose::ALL.iter().filter(|&&q| c.of(q)).count(), 1);
        }
    }
}
