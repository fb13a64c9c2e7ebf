-- Feeds scan_history from every insert into scans (the sink's first versions
-- and the query API's updates alike).
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scan_history_mv
TO ${db}.scan_history
AS SELECT
    company_id,
    id,
    version,
    created_date,
    updated_date,
    updated_date_ms,
    updated_by_id,
    reference,
    sales_channel,
    result,
    liveness_score,
    quality,
    luminance,
    eye_closed,
    mouth_opened,
    boundary_face,
    not_front,
    occluded,
    small
FROM ${db}.scans
