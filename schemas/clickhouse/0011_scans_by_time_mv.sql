-- Feeds scans_by_time from every insert into scans (every version), as 0003
-- feeds scans_by_created. Created before the backfill (0012), so that no
-- insert falls between the two: a row both copied and fed is one row once
-- merged (same key and version), and 0012 skips the rows already here.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scans_by_time_mv
TO ${db}.scans_by_time
AS SELECT
    company_id,
    created_date,
    created_date_ms,
    id,
    result,
    sales_channel,
    reference,
    version
FROM ${db}.scans
