-- Analysts' daily liveness-score histogram per company x channel, in 20 bins
-- of width 0.05 (bin 20 holds a score of exactly 1.0), for the scans the
-- platform judged on one face (Real or Spoof). SummingMergeTree adds the
-- counts per key. It counts deliveries: a redelivered result (rare,
-- at-least-once) adds one to its bin, which does not move a distribution's
-- shape; exact scan counts are in scans_hourly.
-- Read with sum(scans) GROUP BY bin: rows of one key are only summed at merge time.
CREATE TABLE IF NOT EXISTS ${db}.liveness_histogram
(
    day           Date,
    company_id    UUID,
    sales_channel Enum8('WEB' = 1, 'MOBILE' = 2, 'OTHER' = 3),
    bin           UInt8,
    scans         UInt64
)
ENGINE = SummingMergeTree(scans)
PARTITION BY toYYYYMM(day)
ORDER BY (company_id, day, sales_channel, bin)
SETTINGS index_granularity = 8192
