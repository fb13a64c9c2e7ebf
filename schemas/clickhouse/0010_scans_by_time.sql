-- The time index of 0002 again, at index_granularity 1024 instead of 8192:
-- what newest-first listing reads since 0010 (internal/store/list.go).
-- A table's granularity cannot change after creation (no MODIFY SETTING on
-- 18.16), hence a new table, fed by 0011 and filled from the old one by 0012.
--
-- Why 1024: a page reads a time window of about a hundred of a company's
-- rows, but the index can only pick whole granules, one or two per part;
-- at 8192 that was ~40k rows read per page at 1M scans (5 parts per month),
-- 13-14 ms on 18.16, and 3 ms at 1024 (measured with clickhouse-client, one
-- thread, the same window). The narrow rows (~70 bytes) keep the marks small
-- (~16 bytes per column per 1024 rows). Counting a company's range, the
-- other read, scans all its rows either way.
--
-- scans_by_created and its view stay (scripts/clickhouse/check_current.py
-- still reads them); dropping them is a later migration.
CREATE TABLE IF NOT EXISTS ${db}.scans_by_time
(
    company_id       UUID,
    created_date     DateTime,
    created_date_ms  UInt16,
    id               UUID,
    result           Enum8('Real' = 1, 'Spoof' = 2, 'No face' = 3, 'Multiple face' = 4),
    sales_channel    Enum8('WEB' = 1, 'MOBILE' = 2, 'OTHER' = 3),
    reference        String,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_date)
ORDER BY (company_id, created_date, created_date_ms, id)
SETTINGS index_granularity = 1024
