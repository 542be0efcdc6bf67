DROP TABLE idempotency_keys;
DROP TABLE audit_events;
DROP TABLE consent_changes;
DROP TABLE stakeholder_tags;
DROP TABLE stakeholders;
