-- The audit log as the privacy contract reads it: a category, the
-- stakeholder an event concerns (directly or through a child record), the
-- partner of the actor, and metadata (ids, enums, counts, names only).
ALTER TABLE audit_events ADD COLUMN category text NOT NULL DEFAULT 'change';
ALTER TABLE audit_events ADD COLUMN stakeholder_id uuid;
ALTER TABLE audit_events ADD COLUMN actor_partner_id uuid;
ALTER TABLE audit_events ADD COLUMN metadata text NOT NULL DEFAULT '{}';

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
UPDATE audit_events a SET stakeholder_id = i.stakeholder_id
  FROM interactions i WHERE a.resource_type = 'interaction' AND i.id = a.resource_id;
UPDATE audit_events a SET stakeholder_id = o.stakeholder_id
  FROM offers o WHERE a.resource_type = 'offer' AND o.id = a.resource_id;
UPDATE audit_events a SET stakeholder_id = c.stakeholder_id
  FROM complaints c WHERE a.resource_type = 'complaint' AND c.id = a.resource_id;

CREATE INDEX audit_events_stakeholder_idx ON audit_events (stakeholder_id, occurred_at, id);
CREATE INDEX audit_events_action_idx ON audit_events (action, occurred_at, id);

-- Consent with its legal basis and how it was captured.
ALTER TABLE consent_changes ADD COLUMN legal_basis text;
ALTER TABLE consent_changes ADD COLUMN source text NOT NULL DEFAULT 'api';
ALTER TABLE consent_changes ADD COLUMN captured_at timestamptz;
ALTER TABLE consent_changes ADD COLUMN evidence_ref text;
UPDATE consent_changes
   SET legal_basis = CASE consent WHEN 'sensitive_data' THEN 'explicit_consent' ELSE 'consent' END,
       captured_at = changed_at;
ALTER TABLE consent_changes ALTER COLUMN legal_basis SET NOT NULL;
ALTER TABLE consent_changes ALTER COLUMN captured_at SET NOT NULL;
ALTER TABLE consent_changes ALTER COLUMN source DROP DEFAULT;
