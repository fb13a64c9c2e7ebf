"""Runs the ClickHouse migrations on a current ClickHouse engine (chDB, the
in-process build of ClickHouse, from PyPI) to check that the DDL the local
18.16 server accepts is also valid on current releases. Each migration is
applied twice (idempotence), then one scan is delivered twice and updated
once, and the views and version rules are checked. Exit status 1 on failure.

  scripts/clickhouse.sh check-current
"""
import glob
import os
import re
import sys
import tempfile

from chdb import session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DB = "`face_liveness`"
s = session.Session(tempfile.mkdtemp())


def q(sql):
    return s.query(sql, "TSV").bytes().decode().strip()


def expect(what, got, want):
    print(f"{what}: {got!r}")
    if got != want:
        print(f"FAIL {what}: want {want!r}")
        sys.exit(1)


print("ClickHouse", q("SELECT version()"))
q("CREATE DATABASE IF NOT EXISTS " + DB)
# The same bootstrap table internal/store.Migrate creates.
q("CREATE TABLE IF NOT EXISTS " + DB + ".schema_migrations (version UInt32, name String, applied_at DateTime)"
  " ENGINE = ReplacingMergeTree ORDER BY version SETTINGS index_granularity = 8192")
files = sorted(glob.glob(os.path.join(ROOT, "schemas/clickhouse/*.sql")))
for _ in range(2):
    for f in files:
        try:
            q(open(f).read().strip().rstrip(";").replace("${db}", DB))
        except Exception as e:  # noqa: BLE001 - report any engine error
            print("FAIL", os.path.basename(f), e)
            sys.exit(1)
print(f"{len(files)} migrations applied twice")

cols = ", ".join(re.findall(r"^\s{4}([a-z0-9_]+)\s", open(files[0]).read(), re.M))
c, i = "11111111-1111-1111-1111-111111111111", "22222222-2222-2222-2222-222222222222"
ins = (f"INSERT INTO {DB}.scans (id, company_id, created_date, created_date_ms, sales_channel, result,"
       " liveness_score, faces, version, updated_date) VALUES ")
for result, version, updated in (("Spoof", 1, "NULL"), ("Spoof", 1, "NULL"), ("Real", 2, "'2026-11-25 11:00:00'")):
    q(ins + f"('{i}', '{c}', '2026-11-25 10:00:00', 123, 'WEB', '{result}', 0.42, '[]', {version}, {updated})")

expect("newest by ORDER BY version", q(f"SELECT version, result FROM (SELECT {cols} FROM {DB}.scans"
       f" PREWHERE company_id = '{c}' AND id = '{i}' ORDER BY version DESC LIMIT 1)"), "2\tReal")
expect("newest by FINAL", q(f"SELECT version, result FROM {DB}.scans FINAL PREWHERE company_id = '{c}' AND id = '{i}'"), "2\tReal")
expect("hourly verdicts", q(f"SELECT result, uniqMerge(scans) FROM {DB}.scans_hourly GROUP BY result"), "Spoof\t1")
expect("time index", q(f"SELECT result, version FROM {DB}.scans_by_created FINAL"), "Real\t2")
q(f"OPTIMIZE TABLE {DB}.scans FINAL")
expect("after merge", q(f"SELECT count(), max(version) FROM {DB}.scans"), "1\t2")
print("ok")
