-- Every version of every scan, for "the change history stays queryable":
-- scans (ReplacingMergeTree) drops older versions when parts merge.
-- Narrow: the fields an analyst may change plus who and when; faces and
-- measurements never change between versions and stay in scans only.
--
-- ReplacingMergeTree with version in the key: a redelivered version collapses
-- into one row, distinct versions all stay. Readers add LIMIT 1 BY version
-- for what is not merged yet. Same partitioning as scans (created_date never
-- changes), ordered for one scan's history by primary key.
CREATE TABLE IF NOT EXISTS ${db}.scan_history
(
    company_id       UUID,
    id               UUID,
    version          UInt64,
    created_date     DateTime,
    updated_date     Nullable(DateTime),
    updated_date_ms  UInt16,
    updated_by_id    Nullable(String),
    reference        String,
    sales_channel    Enum8('WEB' = 1, 'MOBILE' = 2, 'OTHER' = 3),
    result           Enum8('Real' = 1, 'Spoof' = 2, 'No face' = 3, 'Multiple face' = 4),
    liveness_score   Float64,
    quality          Enum8('' = 0, 'Low' = 1, 'Medium' = 2, 'High' = 3),
    luminance        Enum8('' = 0, 'Dark' = 1, 'Normal' = 2, 'Light' = 3),
    eye_closed       UInt8,
    mouth_opened     UInt8,
    boundary_face    UInt8,
    not_front        UInt8,
    occluded         UInt8,
    small            UInt8
)
ENGINE = ReplacingMergeTree()
PARTITION BY toYYYYMM(created_date)
ORDER BY (company_id, id, version)
SETTINGS index_granularity = 8192
