-- The audit log as the privacy contract reads it: a category, the
-- stakeholder an event concerns (directly or through a child record), the
-- partner of the actor, and metadata (ids, enums, counts, names only).
ALTER TABLE audit_events ADD COLUMN category TEXT NOT NULL DEFAULT 'change';
ALTER TABLE audit_events ADD COLUMN stakeholder_id TEXT;
ALTER TABLE audit_events ADD COLUMN actor_partner_id TEXT;
ALTER TABLE audit_events ADD COLUMN metadata TEXT NOT NULL DEFAULT '{}';

-- One vocabulary: `<resource>.<past-tense verb>`.
UPDATE audit_events SET action = CASE action
    WHEN 'offer.send' THEN 'offer.sent'
    WHEN 'offer.accept' THEN 'offer.accepted'
    WHEN 'offer.decline' THEN 'offer.declined'
    WHEN 'offer.withdraw' THEN 'offer.withdrawn'
    WHEN 'complaint.acknowledge' THEN 'complaint.acknowledged'
    WHEN 'complaint.start' THEN 'complaint.started'
    WHEN 'complaint.resolve' THEN 'complaint.resolved'
    WHEN 'complaint.close' THEN 'complaint.closed'
    WHEN 'complaint.reopen' THEN 'complaint.reopened'
    WHEN 'complaint.assign' THEN 'complaint.assigned'
    ELSE action END;

UPDATE audit_events SET stakeholder_id = resource_id WHERE resource_type = 'stakeholder';
UPDATE audit_events SET stakeholder_id = (SELECT i.stakeholder_id FROM interactions i WHERE i.id = audit_events.resource_id)
 WHERE resource_type = 'interaction';
UPDATE audit_events SET stakeholder_id = (SELECT o.stakeholder_id FROM offers o WHERE o.id = audit_events.resource_id)
 WHERE resource_type = 'offer';
UPDATE audit_events SET stakeholder_id = (SELECT c.stakeholder_id FROM complaints c WHERE c.id = audit_events.resource_id)
 WHERE resource_type = 'complaint';

CREATE INDEX audit_events_stakeholder_idx ON audit_events (stakeholder_id, occurred_at, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at, id);

-- Consent with its legal basis and how it was captured. (SQLite cannot add
-- a NOT NULL column without a default: '' is never left behind, the UPDATE
-- fills every row and the server always writes both.)
ALTER TABLE consent_changes ADD COLUMN legal_basis TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_changes ADD COLUMN source TEXT NOT NULL DEFAULT 'api';
ALTER TABLE consent_changes ADD COLUMN captured_at TEXT NOT NULL DEFAULT '';
ALTER TABLE consent_changes ADD COLUMN evidence_ref TEXT;
UPDATE consent_changes
   SET legal_basis = CASE consent WHEN 'sensitive_data' THEN 'explicit_consent' ELSE 'consent' END,
       captured_at = changed_at;
