#!/bin/bash
# sqlite_100k.sh: the sqlite3 CLI builds a 100,000-row table with a recursive CTE in a database file
# in a temp dir (journal, fsync, locks), indexes it and queries it: count, sum, group by, an indexed
# lookup and the plan that uses the index; then a second process reopens the file, three writers
# share a WAL database at once (fcntl locks between processes, the shared -shm mapping), and a
# memory-mapped database is read and updated.
set -e
d=$(mktemp -d /tmp/rt-sqlite.XXXXXX)
trap 'rm -rf "$d"' EXIT
db=$d/t.db
sqlite3 -batch "$db" <<'SQL'
PRAGMA journal_mode=WAL;
CREATE TABLE t(id INTEGER PRIMARY KEY, grp INTEGER, name TEXT, val REAL);
BEGIN;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100000)
INSERT INTO t SELECT i, i % 17, printf('name-%06d', (i * 7919) % 100003), i * 0.5 FROM n;
COMMIT;
CREATE INDEX t_name ON t(name);
SELECT count(*), sum(id), total(val), min(name), max(name) FROM t;
SELECT grp, count(*), sum(id) FROM t GROUP BY grp ORDER BY grp LIMIT 5;
SELECT id, grp, val FROM t WHERE name = 'name-050000';
SELECT count(*) FROM t WHERE name BETWEEN 'name-010000' AND 'name-019999';
EXPLAIN QUERY PLAN SELECT id FROM t WHERE name = 'name-000001';
UPDATE t SET val = -1 WHERE grp = 3;
DELETE FROM t WHERE id % 10 = 0;
SELECT count(*), sum(val < 0) FROM t;
PRAGMA integrity_check;
SQL
sqlite3 -batch "$db" 'PRAGMA journal_mode=DELETE; VACUUM; SELECT count(*) FROM t; PRAGMA integrity_check;'
sqlite3 -batch -csv "$db" 'SELECT grp, avg(val) FROM t GROUP BY grp HAVING grp > 14'
w() {
	for i in $(seq 1 40); do echo "INSERT INTO w VALUES($i, '$1');"; done |
		sqlite3 -batch -cmd '.timeout 10000' "$d/w.db"
}
sqlite3 -batch "$d/w.db" 'PRAGMA journal_mode=WAL; CREATE TABLE w(x INTEGER, who TEXT);'
w a &
w b &
w c &
wait
sqlite3 -batch "$d/w.db" 'SELECT who, count(*), sum(x) FROM w GROUP BY who;'
sqlite3 -batch "$d/m.db" 'PRAGMA mmap_size=67108864;
CREATE TABLE big AS WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
SELECT i, zeroblob(100) AS b FROM n;
UPDATE big SET b = zeroblob(10) WHERE i % 3 = 0;
SELECT count(*), sum(length(b)) FROM big;
PRAGMA integrity_check;'
rm -f "$d"/w.db-* # the WAL files of the last connection, if it left them
ls "$d"
echo "done"
