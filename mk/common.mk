# mk/common.mk: what every C component's Makefile shares.
#
# Included by core/, service/, api/, sync/ and cli/ (pg_pprl/ builds with
# PostgreSQL's PGXS and links the core library).  Objects are built once per
# variant under build/obj/<variant>/<source path>.o with header dependencies
# (-MMD), and each library once per variant under build/lib/<variant>/:
#
#   opt    -O2 -g, position-independent (the extension links the core into
#          its shared object)
#   san    -O1 -g under AddressSanitizer and UBSan, for the unit tests
#   fuzz   clang, instrumented for libFuzzer, ASan and UBSan
#
# $(call objs,VARIANT,SOURCES) names the objects of SOURCES (paths from
# the top of the tree).

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST)))/..)
BUILD := $(TOP)/build
CC ?= cc
CLANG ?= clang
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PG_INCLUDE := $(shell $(PG_CONFIG) --includedir)

# C11 with POSIX 2008 and the default glibc extensions (getrandom), every
# warning an error; public headers of the two libraries on the path.
BASE_CPPFLAGS = -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -I$(TOP)/core/include \
	-I$(TOP)/service/include -I$(PG_INCLUDE)
WARN = -std=c11 -Wall -Wextra -Werror -Wmissing-prototypes -Wshadow -Wpointer-arith
SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_LINK = -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FLAGS_opt = -O2 -g -fPIC
FLAGS_san = -O1 -g $(SAN)
FLAGS_fuzz = -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all
CC_opt = $(CC)
CC_san = $(CC)
CC_fuzz = $(CLANG)

CORE_LIB = $(BUILD)/lib/$(1)/libpprl_core.a
SERVICE_LIB = $(BUILD)/lib/$(1)/libpprl_service.a
CORE_LIBS = -lcrypto -ljansson -lpcre2-8 -lm -pthread
SERVICE_LIBS = -lpq -lhiredis -lcurl -ljansson -lcrypto -pthread

objs = $(patsubst %.c,$(BUILD)/obj/$(1)/%.o,$(2))

# Quiet by default: "cc[opt] core/src/clk_codec.c"; V=1 shows the commands.
Q = $(if $(V),,@)
define variant_rule
$(BUILD)/obj/$(1)/%.o: $(TOP)/%.c
	@mkdir -p $$(@D)
	$$(if $$(V),,@echo "  cc[$(1)] $$(patsubst $(TOP)/%,%,$$<)")
	$$(Q)$$(CC_$(1)) $$(BASE_CPPFLAGS) $$(CPPFLAGS) $$(FLAGS_$(1)) $$(WARN) -MMD -MP -c -o $$@ $$<
endef
$(foreach v,opt san fuzz,$(eval $(call variant_rule,$(v))))

# A library from its objects: $(call library,VARIANT,NAME,SOURCES).
define library
$(BUILD)/lib/$(1)/lib$(2).a: $(call objs,$(1),$(3))
	@mkdir -p $$(@D)
	@rm -f $$@
	$$(if $$(V),,@echo "  ar $$(patsubst $(TOP)/%,%,$$@)")
	$$(Q)ar rcs $$@ $$^
endef

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
