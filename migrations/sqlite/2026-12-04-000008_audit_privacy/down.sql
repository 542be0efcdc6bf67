ALTER TABLE consent_changes DROP COLUMN evidence_ref;
ALTER TABLE consent_changes DROP COLUMN captured_at;
ALTER TABLE consent_changes DROP COLUMN source;
ALTER TABLE consent_changes DROP COLUMN legal_basis;
DROP INDEX audit_events_action_idx;
DROP INDEX audit_events_stakeholder_idx;
UPDATE audit_events SET action = CASE action
    WHEN 'offer.sent' THEN 'offer.send'
    WHEN 'offer.accepted' THEN 'offer.accept'
    WHEN 'offer.declined' THEN 'offer.decline'
    WHEN 'offer.withdrawn' THEN 'offer.withdraw'
    WHEN 'complaint.acknowledged' THEN 'complaint.acknowledge'
    WHEN 'complaint.started' THEN 'complaint.start'
    WHEN 'complaint.resolved' THEN 'complaint.resolve'
    WHEN 'complaint.closed' THEN 'complaint.close'
    WHEN 'complaint.reopened' THEN 'complaint.reopen'
    WHEN 'complaint.assigned' THEN 'complaint.assign'
    ELSE action END;
ALTER TABLE audit_events DROP COLUMN metadata;
ALTER TABLE audit_events DROP COLUMN actor_partner_id;
ALTER TABLE audit_events DROP COLUMN stakeholder_id;
ALTER TABLE audit_events DROP COLUMN category;
