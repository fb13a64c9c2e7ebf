-- Feeds scans_by_created from every insert into scans (every version).
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scans_by_created_mv
TO ${db}.scans_by_created
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
