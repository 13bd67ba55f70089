# pg_pprl top-level Makefile.  Each component has its own (core/, service/,
# pg_pprl/, api/, sync/, cli/; shared flags and rules in mk/common.mk); this
# one builds them in order and runs the suites.
#
#   make                 build the core and service libraries, the extension,
#                        the REST server, the worker and the command line
#   make install         install it into the system's PostgreSQL 15 (root)
#   make installcheck    build, stage-install, start a throwaway cluster as a
#                        non-root user on a private socket, run regress/
#                        (ONLY="index match" for some files)
#   make check-tap       TAP tests (PostgreSQL::Test::Cluster): the pprl index
#                        replayed on a streaming standby and after a crash
#   make check-core      SIMD kernels and the matching core against references
#                        (ASan/UBSan; kernels under valgrind too; ONLY=match_test)
#   make check-encode    the clkhash-compatible encoder and the pprl command line
#   make check-migrations  the service schema's migration runner on a throwaway cluster
#   make check-api       the service library's and the REST server's unit tests
#                        (ASan/UBSan; ONLY=upload_json_test runs just one),
#                        then black-box tests
#   make check-s3        the S3 object store and the API on it, against radosgw
#   make check-stack     the local multi-node stack (replicas, workers, scaling)
#   make check-faults    faults in the middle of runs on that stack
#   make check-adversarial  the API under hostile clients (ASan/UBSan build):
#                        deep JSON, 1,000 slow connections, stalls, crashes,
#                        smuggling headers, bounds (ONLY="case ..." for some)
#   make helm-check      the chart: renders, lint, schemas, golden renders
#   make check-deploy    the images' entrypoints wired as the chart does
#   make e2e             the end-to-end suite against a running stack (make up)
#                        or any SERVER=http://.../  (results against anonlink's)
#   make fuzz            libFuzzer runs over the CLK parsers, the upload parser
#                        and the whole request path (the API against a database)
#   make test            all of the above test targets (the README's test command),
#                        with a closing line counted from what ran
#   make bench           kernel and SQL throughput, per path, with baselines
#   make demo            the main job on the embedded default, through the REST API
#   make demo-sql        the same link straight in SQL
#   make up              start the service on loopback (PostgreSQL with pg_pprl
#                        and the migrations, Redis, file object store, API,
#                        worker); the last line printed is SERVER=http://...
#   make down            stop it and remove its state
#
# Every target works as root (CI) and as an ordinary user.

# Prefer PostgreSQL 15's own pg_config over whatever is first on PATH.
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
export PG_CONFIG
PG_BINDIR := $(shell $(PG_CONFIG) --bindir)
PG_PGXS_DIR := $(dir $(shell $(PG_CONFIG) --pgxs))
PG_REGRESS := $(PG_PGXS_DIR)../../src/test/regress/pg_regress
SHARED_DATA ?= $(abspath ../shared/data)
CC ?= cc
CLANG ?= clang
FUZZ_SECONDS ?= 20

# ONLY= picks some regress files (installcheck), unit tests (check-core,
# check-api) or cases (check-adversarial); see the README.
REGRESS_TESTS := $(or $(ONLY),$(basename $(notdir $(wildcard regress/sql/*.sql))))

.PHONY: all install installcheck check-tap check-core check-migrations check-api check-s3 check-stack check-faults check-adversarial helm-check check-deploy check-encode e2e fuzz test bench demo demo-sql up down clean

# The libraries first, then what links them.
all:
	$(MAKE) -C core lib
	$(MAKE) -C service all
	$(MAKE) -C pg_pprl
	$(MAKE) -C api all
	$(MAKE) -C sync all
	$(MAKE) -C cli all

install: all
	$(MAKE) -C pg_pprl install

# Stage-install into a temp dir, start a private cluster that loads the
# extension from there, run pg_regress, always stop the cluster.
installcheck: all
	@set -e; tmp=$$(mktemp -d /tmp/pprl-check.XXXXXX); \
	trap 'scripts/pgtmp.sh stop '$$tmp'' EXIT; \
	eval "export $$(scripts/pgtmp.sh start-staged $$tmp)"; \
	mkdir -p build/regress; \
	PPRL_SHARED_DATA=$(SHARED_DATA) $(PG_REGRESS) --bindir=$(PG_BINDIR) \
		--inputdir=regress --outputdir=build/regress --dbname=pprl_regress \
		--load-extension=pg_pprl \
		$(REGRESS_TESTS) || { cat build/regress/regression.diffs; exit 1; }

check-tap: all
	scripts/test-index-tap.sh

# The core library's unit tests: kernels under ASan/UBSan on the real CPU
# (every path it has), then under valgrind (no AVX-512: the fallback), and
# the matching core against brute force.
check-core:
	$(MAKE) -C core check $(if $(ONLY),ONLY="$(ONLY)")

check-migrations: all
	scripts/test-migrations.sh

# The service library's and the API's unit tests (ONLY= one of them), then
# the black-box tests of the API and the worker.
check-api: all
	$(MAKE) -C service check $(if $(ONLY),ONLY="$(filter service_test store_test,$(ONLY))")
	$(MAKE) -C api check $(if $(ONLY),ONLY="$(filter api_unit_test upload_json_test upload_bin_test,$(ONLY))")
	$(if $(ONLY),,scripts/test-api.sh)

check-s3: all
	$(MAKE) -C service check ONLY=store_test
	scripts/test-s3.sh

# The local multi-node stack: primary, two replicas with a worker each.
check-stack: all
	scripts/test-stack.sh

# Faults in the middle of runs on that stack (workers killed, object store
# down, replicas behind, Redis restarted or emptied).
check-faults: all
	scripts/test-faults.sh

# The API under hostile clients, on its ASan/UBSan build.
check-adversarial: all
	$(MAKE) -C api san
	ADV_API=$(CURDIR)/build/pprl-api-san scripts/test-adversarial.sh

# The encoder and the pprl command line: clkhash's known answers, bad input,
# constant memory; under ASan/UBSan, then the optimised build; dates against
# CPython's strptime; then every CLK and refusal against clkhash itself (the
# peers' venv, scripts/setup-peers.sh; ENCODE_DIFF_CASES=N for more cases),
# on the command line and through pprl_encode() in a C and a C.UTF-8 database.
check-encode: all
	$(MAKE) -C cli san
	$(MAKE) -C core date-driver
	python3 scripts/test_encode.py build/pprl_san $(SHARED_DATA)
	python3 scripts/test_encode.py build/pprl $(SHARED_DATA)
	python3 scripts/test_dates.py build/date_driver
	build/peers/bin/python scripts/gen-master-schemas.py --check build/peers/bin/python
	build/peers/bin/python scripts/gen-unicode-tables.py --check
	python3 scripts/test_encode_diff.py build/pprl_san
	python3 scripts/test_encode_sql.py

# The Helm chart without a cluster, with real Helm (scripts/setup-helm.sh): lint, render,
# yamllint, Kubernetes schemas, golden renders, required values.
helm-check: all
	scripts/helm-check.sh

# The images' start-up path as the chart wires it (entrypoints, passwords in
# files, scram over TCP, slot from the pod name, janitor), without containers.
check-deploy: all
	scripts/test-deploy.sh

# The end-to-end suite through the REST API: against SERVER= (any
# deployment; http or https, with a path prefix if any) or the running stack.
e2e:
	@server="$(SERVER)"; \
	[ -n "$$server" ] || server=$$(scripts/stack.sh env 2>/dev/null | sed -n 's/^SERVER=//p'); \
	[ -n "$$server" ] || { echo "make e2e: give SERVER=http://... or start the stack (make up)" >&2; exit 2; }; \
	python3 scripts/test_e2e.py "$$server" "$(SHARED_DATA)"

fuzz: all
	$(MAKE) -C core fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) CLANG=$(CLANG)
	$(MAKE) -C api fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) CLANG=$(CLANG)
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-request.sh

# Every suite in turn (scripts/test-all.sh): the first failure stops the
# run; the closing line counts the suites that ran and the checks they
# reported.
TEST_SUITES = check-core installcheck check-tap check-encode check-migrations check-api check-s3 \
	check-stack check-faults check-adversarial helm-check check-deploy fuzz
test: all
	@scripts/test-all.sh $(TEST_SUITES)

bench: all
	scripts/bench.sh

demo: all
	scripts/demo.sh

demo-sql: all
	scripts/demo.sh sql

clean:
	$(MAKE) -C core clean
	$(MAKE) -C service clean
	$(MAKE) -C pg_pprl clean
	$(MAKE) -C api clean
	$(MAKE) -C sync clean
	$(MAKE) -C cli clean
	rm -rf build

up: all
	@scripts/stack.sh up

down:
	@scripts/stack.sh down
