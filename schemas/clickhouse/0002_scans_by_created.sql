-- Time-ordered index of the scans for newest-first listing within a company
-- (18.16 has no projections, so this is a plain table fed by 0003's view).
-- It is narrow: the key plus the list filters (result, sales_channel,
-- reference) and version, so a listing reads a small contiguous range, picks a
-- page of ids, and fetches those rows from scans by (company_id, id).
--
-- Sorting key (company_id, created_date, created_date_ms, id): the tenant's
-- scans in creation order; created_date is immutable, so the key identifies
-- a scan across versions and ReplacingMergeTree(version) keeps its newest
-- filter values (an analyst may change result). id breaks ties for cursors.
CREATE TABLE IF NOT EXISTS ${db}.scans_by_created
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
SETTINGS index_granularity = 8192
