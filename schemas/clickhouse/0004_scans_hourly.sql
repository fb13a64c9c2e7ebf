-- Analysts' hourly counts per company x channel x result, of the platform's
-- own verdicts (rows without updated_date; analysts' corrections live in scans).
-- Results are at-least-once, so a plain row count would count a redelivered
-- scan twice: scans holds uniq(id) states instead, which a redelivery does not
-- change (uniq is exact up to 65536 distinct ids per group, then within ~1%).
-- AggregatingMergeTree merges the states per key; read with uniqMerge(scans),
-- avgMerge(liveness_avg), quantilesMerge(0.5, 0.9, 0.99)(elapsed_quantiles).
CREATE TABLE IF NOT EXISTS ${db}.scans_hourly
(
    hour              DateTime,
    company_id        UUID,
    sales_channel     Enum8('WEB' = 1, 'MOBILE' = 2, 'OTHER' = 3),
    result            Enum8('Real' = 1, 'Spoof' = 2, 'No face' = 3, 'Multiple face' = 4),
    scans             AggregateFunction(uniq, UUID),
    liveness_avg      AggregateFunction(avg, Float64),
    elapsed_quantiles AggregateFunction(quantiles(0.5, 0.9, 0.99), Float64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMM(hour)
ORDER BY (company_id, hour, sales_channel, result)
SETTINGS index_granularity = 8192
