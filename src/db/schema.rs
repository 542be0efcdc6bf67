//! Diesel table definitions, matching `migrations/` on both backends
//! (a test touches every table through these definitions).

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    stakeholders (id) {
        id -> PUuid,
        kind -> Text,
        entity_type -> Text,
        display_name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        organization_id -> Nullable<PUuid>,
        lifecycle_stage -> Text,
        segment -> Nullable<Text>,
        owner_id -> Nullable<Text>,
        partner_id -> Nullable<PUuid>,
        birth_date -> Nullable<Date>,
        occupation -> Nullable<Text>,
        education_level -> Nullable<Text>,
        household_size -> Nullable<Integer>,
        income_band -> Nullable<Text>,
        preferred_categories -> Text,
        interests -> Text,
        tags -> Text,
        preferences -> Text,
        sensitive -> Nullable<Text>,
        consents -> Text,
        address -> Nullable<Text>,
        search_text -> Text,
        name_search -> Text,
        version -> Integer,
        created_at -> PTimestamp,
        updated_at -> PTimestamp,
        archived_at -> Nullable<PTimestamp>,
        erased_at -> Nullable<PTimestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::PUuid;

    stakeholder_tags (stakeholder_id, tag) {
        stakeholder_id -> PUuid,
        tag -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    consent_changes (id) {
        id -> PUuid,
        stakeholder_id -> PUuid,
        consent -> Text,
        old_value -> Nullable<Bool>,
        new_value -> Bool,
        changed_by -> Text,
        changed_at -> PTimestamp,
        request_id -> Nullable<Text>,
        legal_basis -> Text,
        source -> Text,
        captured_at -> PTimestamp,
        evidence_ref -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    audit_events (id) {
        id -> PUuid,
        occurred_at -> PTimestamp,
        actor_sub -> Text,
        actor_role -> Text,
        action -> Text,
        resource_type -> Text,
        resource_id -> PUuid,
        changed_fields -> Text,
        request_id -> Nullable<Text>,
        category -> Text,
        stakeholder_id -> Nullable<PUuid>,
        actor_partner_id -> Nullable<PUuid>,
        metadata -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::PTimestamp;

    idempotency_keys (owner, idem_key) {
        owner -> Text,
        idem_key -> Text,
        request_hash -> Text,
        status_code -> Integer,
        location -> Nullable<Text>,
        response_body -> Text,
        created_at -> PTimestamp,
        etag -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::PUuid;

    idempotency_key_resources (owner, idem_key, resource_type, resource_id) {
        owner -> Text,
        idem_key -> Text,
        resource_type -> Text,
        resource_id -> PUuid,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    erasures (stakeholder_id) {
        stakeholder_id -> PUuid,
        erased_at -> PTimestamp,
        erased_by -> Text,
        reason -> Text,
        request_reference -> Nullable<Text>,
        redacted -> Text,
        consents_withdrawn -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    stakeholder_stage_changes (id) {
        id -> PUuid,
        stakeholder_id -> PUuid,
        from_stage -> Nullable<Text>,
        to_stage -> Text,
        changed_at -> PTimestamp,
        changed_by -> Text,
    }
}

diesel::joinable!(stakeholder_tags -> stakeholders (stakeholder_id));
diesel::joinable!(stakeholder_stage_changes -> stakeholders (stakeholder_id));
diesel::joinable!(consent_changes -> stakeholders (stakeholder_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    interactions (id) {
        id -> PUuid,
        stakeholder_id -> PUuid,
        channel -> Text,
        direction -> Text,
        interaction_type -> Text,
        occurred_at -> PTimestamp,
        subject -> Nullable<Text>,
        notes -> Nullable<Text>,
        outcome -> Nullable<Text>,
        amount_minor -> Nullable<BigInt>,
        currency -> Nullable<Text>,
        satisfaction -> Nullable<Integer>,
        offer_id -> Nullable<PUuid>,
        complaint_id -> Nullable<PUuid>,
        recorded_by -> Text,
        version -> Integer,
        created_at -> PTimestamp,
        updated_at -> PTimestamp,
    }
}

diesel::joinable!(interactions -> stakeholders (stakeholder_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    offers (id) {
        id -> PUuid,
        stakeholder_id -> PUuid,
        title -> Text,
        description -> Nullable<Text>,
        product_category -> Nullable<Text>,
        price_minor -> BigInt,
        currency -> Text,
        discount_percent -> Integer,
        valid_from -> Nullable<PTimestamp>,
        valid_until -> Nullable<PTimestamp>,
        status -> Text,
        created_by -> Text,
        sent_at -> Nullable<PTimestamp>,
        responded_at -> Nullable<PTimestamp>,
        version -> Integer,
        created_at -> PTimestamp,
        updated_at -> PTimestamp,
    }
}

diesel::joinable!(offers -> stakeholders (stakeholder_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    complaints (id) {
        id -> PUuid,
        stakeholder_id -> PUuid,
        subject -> Text,
        description -> Text,
        category -> Text,
        severity -> Text,
        channel -> Nullable<Text>,
        assignee_id -> Nullable<Text>,
        status -> Text,
        due_at -> PTimestamp,
        resolution -> Nullable<Text>,
        satisfaction -> Nullable<Integer>,
        opened_by -> Text,
        acknowledged_at -> Nullable<PTimestamp>,
        resolved_at -> Nullable<PTimestamp>,
        closed_at -> Nullable<PTimestamp>,
        version -> Integer,
        created_at -> PTimestamp,
        updated_at -> PTimestamp,
    }
}

diesel::joinable!(complaints -> stakeholders (stakeholder_id));

diesel::table! {
    use diesel::sql_types::*;
    use crate::db::types::{PTimestamp, PUuid};

    relationships (id) {
        id -> PUuid,
        from_id -> PUuid,
        to_id -> PUuid,
        relationship_type -> Text,
        started_on -> Nullable<Date>,
        ended_on -> Nullable<Date>,
        strength -> Nullable<Integer>,
        notes -> Nullable<Text>,
        created_by -> Text,
        version -> Integer,
        created_at -> PTimestamp,
        updated_at -> PTimestamp,
    }
}

diesel::table! {
    rate_limit_counters (partition_key, window_start, replica) {
        partition_key -> Text,
        window_start -> BigInt,
        replica -> Text,
        units -> BigInt,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    stakeholders,
    stakeholder_tags,
    stakeholder_stage_changes,
    consent_changes,
    audit_events,
    idempotency_keys,
    idempotency_key_resources,
    erasures,
    interactions,
    offers,
    complaints,
    relationships,
    rate_limit_counters,
);
