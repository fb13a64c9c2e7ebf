-- Feeds scans_hourly from the platform's verdicts (first versions, not updates).
CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.scans_hourly_mv
TO ${db}.scans_hourly
AS SELECT
    toStartOfHour(created_date) AS hour,
    company_id,
    sales_channel,
    result,
    uniqState(id) AS scans,
    avgState(liveness_score) AS liveness_avg,
    quantilesState(0.5, 0.9, 0.99)(elapsed_time) AS elapsed_quantiles
FROM ${db}.scans
WHERE updated_date IS NULL
GROUP BY hour, company_id, sales_channel, result
