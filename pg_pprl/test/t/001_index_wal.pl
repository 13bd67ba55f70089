# The pprl index on a streaming hot standby and after a crash: every
# change (build, parallel build, inserts into old and new pages, VACUUM)
# replays through generic WAL, and index scans on the standby return
# exactly what sequential scans on the primary return.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $destdir = $ENV{PPRL_EXTENSION_DESTDIR}
  or BAIL_OUT('PPRL_EXTENSION_DESTDIR (a staged install of pg_pprl) is not set');

my $primary = PostgreSQL::Test::Cluster->new('primary');
$primary->init(allows_streaming => 1);
$primary->append_conf('postgresql.conf', qq(
extension_destdir = '$destdir'
max_parallel_maintenance_workers = 2
min_parallel_table_scan_size = 0
maintenance_work_mem = '128MB'
log_min_messages = debug1
));
$primary->start;
$primary->backup('base');
my $standby = PostgreSQL::Test::Cluster->new('standby');
$standby->init_from_backup($primary, 'base', has_streaming => 1);
$standby->start;

# 1024-bit CLKs from md5 digests, popcounts spread (AND / OR of two
# streams), with near duplicates that drop 1/8 of the bits.
$primary->safe_psql('postgres', q{
CREATE EXTENSION pg_pprl;
CREATE FUNCTION bits(i int, s text) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT decode(string_agg(md5(i || ':' || s || ':' || k), '' ORDER BY k), 'hex')::clk
	  FROM generate_series(1, 8) k $$;
CREATE FUNCTION base(i int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT CASE i % 3 WHEN 0 THEN bits(i, 'a') WHEN 1 THEN bits(i, 'a') & bits(i, 'b')
	       ELSE bits(i, 'a') | bits(i, 'b') END $$;
CREATE FUNCTION dup(i int) RETURNS clk LANGUAGE sql IMMUTABLE AS $$
	SELECT (base(i)::varbit & ~(bits(i, 'x') & bits(i, 'y') & bits(i, 'z'))::varbit)::clk $$;
CREATE TABLE t (id int PRIMARY KEY, c clk);
INSERT INTO t SELECT i, base(i) FROM generate_series(1, 4000) i;
INSERT INTO t SELECT 100000 + i, dup(i) FROM generate_series(1, 4000, 3) i;
INSERT INTO t VALUES (-1, NULL);
SET max_parallel_maintenance_workers = 0;
CREATE INDEX t_c ON t USING pprl (c);
CREATE TABLE q AS SELECT i AS qid, dup(i + 1) AS c FROM generate_series(1, 4000, 400) i;
});

# The answers of the % queries at a few thresholds and the 10 nearest of
# each query (distances only: ties may order differently), as one text.
sub answers
{
	my ($node, $how) = @_;
	my $set = $how eq 'index'
	  ? 'SET enable_seqscan = off; SET enable_bitmapscan = off;'
	  : 'SET enable_indexscan = off; SET enable_bitmapscan = off;';
	my $out = '';
	for my $t ('0.6', '0.8', '0.9')
	{
		$out .= $node->safe_psql('postgres', qq{
$set SET pprl.dice_threshold = $t;
SELECT q.qid, (SELECT string_agg(id::text, ',' ORDER BY id) FROM t WHERE c % q.c)
  FROM q ORDER BY 1;
}) . "\n";
	}
	return $out . $node->safe_psql('postgres', qq{
$set
SELECT q.qid, (SELECT string_agg(round(d::numeric, 12)::text, ',')
                 FROM (SELECT c <-> q.c AS d FROM t ORDER BY c <-> q.c LIMIT 10) s)
  FROM q ORDER BY 1;
});
}

# How the standby answers a % query (it must be an index scan).
sub standby_plan
{
	return $standby->safe_psql('postgres', q{
SET enable_seqscan = off;
EXPLAIN (COSTS OFF) SELECT id FROM t WHERE c % (SELECT c FROM q LIMIT 1);
});
}

sub check_standby
{
	my ($what) = @_;
	$primary->wait_for_catchup($standby);
	my $want = answers($primary, 'seq');
	like($want, qr/,/, "$what: the queries have answers");
	is(answers($standby, 'index'), $want, "$what: standby index scans = primary seq scans");
	is(answers($primary, 'index'), $want, "$what: primary index scans = seq scans");
	like(standby_plan(), qr/Index Scan (?:using|on) t_c/, "$what: the standby uses the index");
	is($standby->safe_psql('postgres', q{SELECT * FROM pprl_index_stats('t_c')}),
		$primary->safe_psql('postgres', q{SELECT * FROM pprl_index_stats('t_c')}),
		"$what: same directory on both");
}

check_standby('after the build');

# Inserts: into the buckets' newest pages, new pages, NULLs.
$primary->safe_psql('postgres', q{
INSERT INTO t SELECT 200000 + i, dup(i + 1) FROM generate_series(1, 4000, 2) i;
INSERT INTO t VALUES (-2, NULL);
});
check_standby('after inserts');

# DELETE + VACUUM (entries moved within pages, hints), then inserts that
# fill the room VACUUM left.
$primary->safe_psql('postgres', q{
DELETE FROM t WHERE id % 3 = 0;
VACUUM t;
INSERT INTO t SELECT 300000 + i, base(i) FROM generate_series(1, 4000, 3) i;
});
check_standby('after VACUUM and more inserts');

# Concurrent writers: four clients inserting into the same popcounts,
# deleting and vacuuming at once, while the standby replays.
$primary->safe_psql('postgres', 'CREATE SEQUENCE ids START 700000');
$primary->pgbench(
	'--no-vacuum --client=4 --transactions=150',
	0,
	[qr{processed: 600/600}],
	[qr{^$}],
	'concurrent inserts, deletes and VACUUM',
	{
		'001_pprl_insert' => q{
\set i random(1, 4000)
INSERT INTO t SELECT nextval('ids'), CASE WHEN :i % 50 = 0 THEN NULL ELSE dup(:i) END;
},
		'002_pprl_delete' => q{
\set i random(1, 4000)
DELETE FROM t WHERE id = :i OR id = 200000 + :i;
},
		'003_pprl_vacuum' => q{
VACUUM t;
},
	});
check_standby('after concurrent writers');

# A parallel build, then REINDEX CONCURRENTLY.
my $log_offset = -s $primary->logfile;
$primary->safe_psql('postgres', q{
DROP INDEX t_c;
CREATE INDEX t_c ON t USING pprl (c);
});
like(slurp_file($primary->logfile, $log_offset),
	qr/building pprl index "t_c" with [1-9] parallel workers/, 'the build ran in parallel');
check_standby('after a parallel build');
$primary->safe_psql('postgres', 'REINDEX INDEX CONCURRENTLY t_c');
check_standby('after REINDEX CONCURRENTLY');

# A crash: inserts and a VACUUM not checkpointed, replayed at start.
$primary->safe_psql('postgres', q{
CHECKPOINT;
INSERT INTO t SELECT 400000 + i, dup(i + 2) FROM generate_series(1, 4000, 4) i;
DELETE FROM t WHERE id % 5 = 0;
VACUUM t;
INSERT INTO t SELECT 500000 + i, base(i + 7) FROM generate_series(1, 400) i;
});
my $before = answers($primary, 'seq');
$primary->stop('immediate');
$primary->start;
is(answers($primary, 'index'), $before, 'after a crash: index scans = seq scans before it');
is(answers($primary, 'seq'), $before, 'after a crash: nothing lost');
check_standby('after the crash');

# The standby promoted keeps a working, writable index.
$standby->promote;
$standby->safe_psql('postgres', q{
INSERT INTO t SELECT 600000 + i, dup(i + 3) FROM generate_series(1, 4000, 5) i;
});
is(answers($standby, 'index'), answers($standby, 'seq'), 'promoted standby: index = seq scan after inserts');

done_testing();
