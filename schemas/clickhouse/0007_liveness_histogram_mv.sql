-- Feeds liveness_histogram from the platform's one-face verdicts.
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.liveness_histogram_mv
TO ${db}.liveness_histogram
AS SELECT
    toDate(created_date) AS day,
    company_id,
    sales_channel,
    toUInt8(floor(least(greatest(liveness_score, 0), 1) * 20)) AS bin,
    toUInt64(count()) AS scans
FROM ${db}.scans
WHERE updated_date IS NULL AND result IN ('Real', 'Spoof')
GROUP BY day, company_id, sales_channel, bin
