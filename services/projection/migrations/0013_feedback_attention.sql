-- The attention flags an open text raises (formal_objection, child_protection, self_harm): such
-- texts are for the unit's manager and county staff (Analytics.ListAttentionTexts), never for
-- the shared results review or reports. NULL until the projection has read the text: texts
-- projected before this column existed are flagged by the projection at start-up (the rule is
-- kaiku_domain::attention, in Rust only), and until then analytics shows them to nobody.
ALTER TABLE feedback_text ADD COLUMN attention text[];
CREATE INDEX feedback_text_attention ON feedback_text (submission_id)
    WHERE attention IS NULL OR attention <> '{}';
