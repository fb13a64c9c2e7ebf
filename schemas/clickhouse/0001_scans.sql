-- The scans: one row per delivered version of a scan (results are
-- at-least-once, analysts' updates add versions). ReplacingMergeTree(version)
-- keeps the highest version per sorting key at merge time; readers that need
-- the current state use FINAL or argMax (see internal/store).
--
-- Valid on ClickHouse 18.16 and current releases: no DateTime64 (milliseconds
-- live in *_ms columns), no Bool (UInt8), no LowCardinality (experimental and
-- off in 18.16: Enum8 instead, which also validates), no skip indexes, codecs,
-- TTL or projections (all newer than 18.16).
--
-- ORDER BY (company_id, id):
--  * it is the deduplication key of ReplacingMergeTree, so it must identify a
--    scan and never change across versions: (company_id, id) does; anything
--    mutable (result, updated_date) must stay out of it;
--  * get-by-id within a company, the hottest read (GET/PUT and the ingest's
--    202 follow-up), is a primary-key range of one granule per part;
--  * company_id first keeps a tenant's rows together for every other query.
-- Newest-first listing cannot be served by this order (ids are random), and
-- 18.16 has neither projections nor skip indexes nor read-in-order, so the
-- listing reads the narrow time-ordered table scans_by_created (0002/0003) and
-- then fetches the page's rows here by (company_id, id).
--
-- PARTITION BY month of creation: created_date never changes between versions,
-- so all versions of a scan share a partition (ReplacingMergeTree only
-- deduplicates within a partition) and date-range filters prune partitions.
--
-- index_granularity = 256, not the usual 8192: a row is a few KB (faces
-- JSON with 136 landmarks per face) and the hot reads are point lookups, which
-- decompress whole granules of every column they return. Measured on 18.16
-- (20k rows, one lookup): reading all columns cost ~0.8 s without PREWHERE and
-- 0.13 s with it at 8192, 0.09 s at 256, on a machine at load 20; at 8192 a
-- lookup in a large part decompresses ~8192 x 4 KB = 32 MB of faces, at 256
-- about 1 MB. The price, ~3 bytes of marks per row, is small against the rows.
--
-- Images are never stored. faces holds every face as JSON (with landmarks);
-- the primary face's measurements are repeated as columns for analysts.
CREATE TABLE IF NOT EXISTS ${db}.scans
(
    id               UUID,
    company_id       UUID,
    created_date     DateTime,
    created_date_ms  UInt16,
    updated_date     Nullable(DateTime),
    updated_date_ms  UInt16,
    created_by_id    String,
    updated_by_id    Nullable(String),
    reference        String,
    elapsed_time     Float64,
    sales_channel    Enum8('WEB' = 1, 'MOBILE' = 2, 'OTHER' = 3),
    eye_closed       UInt8,
    liveness_score   Float64,
    luminance        Enum8('' = 0, 'Dark' = 1, 'Normal' = 2, 'Light' = 3),
    mouth_opened     UInt8,
    quality          Enum8('' = 0, 'Low' = 1, 'Medium' = 2, 'High' = 3),
    result           Enum8('Real' = 1, 'Spoof' = 2, 'No face' = 3, 'Multiple face' = 4),
    boundary_face    UInt8,
    not_front        UInt8,
    occluded         UInt8,
    small            UInt8,
    face_count       UInt16,
    face_x1          Int32,
    face_y1          Int32,
    face_x2          Int32,
    face_y2          Int32,
    face_liveness    Float64,
    face_yaw         Float64,
    face_roll        Float64,
    face_pitch       Float64,
    face_quality     Float64,
    face_luminance   Float64,
    face_eye_distance Float64,
    face_left_eye_closed  Float64,
    face_right_eye_closed Float64,
    face_occlusion   Float64,
    face_mouth_opened Float64,
    faces            String,
    model_version    String,
    image_width      UInt32,
    image_height     UInt32,
    version          UInt64
)
ENGINE = ReplacingMergeTree(version)
PARTITION BY toYYYYMM(created_date)
ORDER BY (company_id, id)
SETTINGS index_granularity = 256
