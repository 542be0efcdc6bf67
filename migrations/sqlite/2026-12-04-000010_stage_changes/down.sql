DROP INDEX stakeholders_portfolio_idx;
DROP INDEX interactions_analytics_idx;
DROP INDEX complaints_closed_idx;
DROP INDEX complaints_acknowledged_idx;
DROP INDEX complaints_resolved_idx;
DROP INDEX offers_sent_idx;
DROP TABLE stakeholder_stage_changes;
