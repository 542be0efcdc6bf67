-- Links from interactions to offers and complaints become foreign keys: an
-- offer deleted while an interaction was being linked to it could leave the
-- interaction pointing at nothing (issue 9). With the keys, the database
-- refuses whichever of the two writes comes second.
--
-- Links that already dangle (left by that race) are cleared first; the
-- interaction gets a new version, as for any change clients can see.
UPDATE interactions
   SET offer_id = NULL, version = version + 1, updated_at = now()
 WHERE offer_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM offers o WHERE o.id = interactions.offer_id);
UPDATE interactions
   SET complaint_id = NULL, version = version + 1, updated_at = now()
 WHERE complaint_id IS NOT NULL
   AND NOT EXISTS (SELECT 1 FROM complaints c WHERE c.id = interactions.complaint_id);

-- The names are what the application matches to tell which link failed.
ALTER TABLE interactions
    ADD CONSTRAINT interactions_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES offers (id);
ALTER TABLE interactions
    ADD CONSTRAINT interactions_complaint_id_fkey FOREIGN KEY (complaint_id) REFERENCES complaints (id);
