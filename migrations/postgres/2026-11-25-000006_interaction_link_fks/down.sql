ALTER TABLE interactions DROP CONSTRAINT IF EXISTS interactions_complaint_id_fkey;
ALTER TABLE interactions DROP CONSTRAINT IF EXISTS interactions_offer_id_fkey;
