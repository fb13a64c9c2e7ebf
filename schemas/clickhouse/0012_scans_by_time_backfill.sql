-- Copies into scans_by_time what scans_by_created held before 0011's view
-- existed. Idempotent without IF NOT EXISTS: it copies only the versions
-- scans_by_time lacks (NOT IN), so a second run, or a run after the view has
-- fed some rows, adds nothing twice. It reads the narrow old index, not
-- scans, and on a fresh database copies nothing.
INSERT INTO ${db}.scans_by_time
    (company_id, created_date, created_date_ms, id, result, sales_channel, reference, version)
SELECT company_id, created_date, created_date_ms, id, result, sales_channel, reference, version
FROM ${db}.scans_by_created
WHERE (company_id, id, version) NOT IN (SELECT company_id, id, version FROM ${db}.scans_by_time)
