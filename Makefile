# pg_pprl top-level Makefile.
#
#   make                 build the extension and the REST server
#   make install         install it into the system's PostgreSQL 15 (root)
#   make installcheck    build, stage-install, start a throwaway cluster as a
#                        non-root user on a private socket, run regress/
#   make check-tap       TAP tests (PostgreSQL::Test::Cluster): the pprl index
#                        replayed on a streaming standby and after a crash
#   make check-core      SIMD kernels and the matching core against references
#                        (ASan/UBSan; kernels under valgrind too)
#   make check-encode    the clkhash-compatible encoder and the pprl command line
#   make check-migrations  the service schema's migration runner on a throwaway cluster
#   make check-api       the REST server: unit tests (ASan/UBSan), then black-box tests
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
#   make test            all of the above test targets (the README's test command)
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

# Kernel requirement for check-core: on a CPU that has AVX-512 VPOPCNTDQ
# the test must exercise it (so a broken detector cannot skip it silently).
REQUIRE_PATHS := $(shell grep -qw avx512_vpopcntdq /proc/cpuinfo 2>/dev/null && echo "--require avx512") \
	$(shell grep -qw avx2 /proc/cpuinfo 2>/dev/null && echo "--require avx2")

REGRESS_TESTS := $(basename $(notdir $(wildcard regress/sql/*.sql)))
KERNEL_SRCS := $(wildcard pg_pprl/src/kernels/*.c)
MATCH_SRCS := $(wildcard pg_pprl/src/match/*.c)
SAN_FLAGS := -std=c11 -O1 -g -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer

.PHONY: all install installcheck check-tap check-core check-migrations check-api check-s3 check-stack check-faults check-adversarial helm-check check-deploy check-encode e2e fuzz test bench demo demo-sql up down clean

all:
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

build/kernel_test: pg_pprl/test/kernel_test.c $(KERNEL_SRCS)
	@mkdir -p build
	$(CC) $(SAN_FLAGS) -o $@ $^

build/kernel_test_plain: pg_pprl/test/kernel_test.c $(KERNEL_SRCS)
	@mkdir -p build
	$(CC) -std=c11 -O1 -g -Wall -Wextra -Werror -o $@ $^

build/match_test: pg_pprl/test/match_test.c $(MATCH_SRCS) $(KERNEL_SRCS)
	@mkdir -p build
	$(CC) $(SAN_FLAGS) -o $@ $^

# Under ASan/UBSan on the real CPU (every path it has), then under valgrind,
# whose virtual CPU lacks AVX-512: that run proves dispatch falls back.
check-core: build/kernel_test build/kernel_test_plain build/match_test
	build/kernel_test $(REQUIRE_PATHS)
	valgrind -q --error-exitcode=1 build/kernel_test_plain
	build/match_test

check-migrations: all
	scripts/test-migrations.sh

check-api:
	$(MAKE) -C api check
	$(MAKE) -C api all
	scripts/test-api.sh

check-s3: all
	$(MAKE) -C api ../build/store_test
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
	$(MAKE) -C api ../build/pprl-api-san
	ADV_API=$(CURDIR)/build/pprl-api-san scripts/test-adversarial.sh

# The encoder and the pprl command line: clkhash's known answers, bad input,
# constant memory; under ASan/UBSan, then the optimised build.
check-encode: all
	$(MAKE) -C cli ../build/pprl_san
	python3 scripts/test_encode.py build/pprl_san $(SHARED_DATA)
	python3 scripts/test_encode.py build/pprl $(SHARED_DATA)

# The Helm chart without a cluster: render (helm, or helm/tools/render),
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
	$(MAKE) -C pg_pprl/fuzz run FUZZ_SECONDS=$(FUZZ_SECONDS) CLANG=$(CLANG)
	$(MAKE) -C api fuzz FUZZ_SECONDS=$(FUZZ_SECONDS) CLANG=$(CLANG)
	$(MAKE) -C api ../build/fuzz_request CLANG=$(CLANG)
	FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz-request.sh

# The closing line counts the suites above, each of which stops the run on failure.
test: check-core installcheck check-tap check-encode check-migrations check-api check-s3 check-stack check-faults check-adversarial helm-check check-deploy fuzz
	@echo "test: 15 passed, 0 failed (kernels under ASan/UBSan and valgrind, matching core, regress, index on a standby (TAP), encoder, migrations, api units and black-box, S3 store and API on S3, multi-node stack, faults, hostile clients, chart, image start-up, fuzz)"

bench: all
	scripts/bench.sh

demo: all
	scripts/demo.sh

demo-sql: all
	scripts/demo.sh sql

clean:
	$(MAKE) -C pg_pprl clean
	$(MAKE) -C pg_pprl/fuzz clean
	$(MAKE) -C api clean
	$(MAKE) -C sync clean
	$(MAKE) -C cli clean
	rm -rf build

up: all
	@scripts/stack.sh up

down:
	@scripts/stack.sh down
