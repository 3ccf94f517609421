# py-mon — plain make. `make`, `make test`, `make install PREFIX=... DESTDIR=...`.
# Project flags are appended to the user's CFLAGS; V=1 shows full command lines.

# The one version: PYMON_VERSION in include/pymon.h. pymon.pc, the shared
# library's file name, the tarball and debian/changelog follow it
# (tests/integration/test_version.py fails when one of them disagrees).
VERSION    := $(shell sed -n 's/^.define PYMON_VERSION "\(.*\)"$$/\1/p' include/pymon.h)
ifeq ($(VERSION),)
$(error cannot read PYMON_VERSION from include/pymon.h)
endif
SOVERSION  := 0
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
LDCONFIG   ?= $(shell command -v ldconfig || echo /sbin/ldconfig)
DISTDIR    ?= .

CC      ?= cc
CFLAGS  ?= -O2 -g
WERROR  ?=
PM_CFLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wformat-security -Wshadow -Wstrict-prototypes \
             -Wmissing-prototypes -Wno-unused-parameter -fvisibility=hidden \
             -Iinclude -Isrc -MMD -MP $(WERROR)

# Symbols bound at load (-z now): no lazy binding through the dynamic
# linker later, in py-mon or in its guardian (which would then map ld.so's
# pages again), and the GOT read-only after start (relro).
PM_LDFLAGS := -Wl,-z,now -Wl,-z,relro
# The library starts one short-lived thread per large scan (core/scan.c);
# glibc >= 2.34 has pthreads in libc, older ones need -pthread.
PM_CFLAGS += -pthread
PM_LDFLAGS += -pthread

# SANITIZE=1: ASan + UBSan build into build-san/ (tests run against it).
ifeq ($(SANITIZE),1)
BUILD   ?= build-san
PM_CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
PM_LDFLAGS += -fsanitize=address,undefined
else
BUILD   ?= build
endif

ifneq ($(V),1)
Q = @
endif

LIB_SRCS := $(wildcard src/base/*.c src/core/*.c src/filter/*.c src/act/*.c)
CLI_SRCS := $(wildcard src/cli/*.c)
UNIT_SRCS := $(wildcard tests/unit/*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
EXAMPLE_SRCS := $(wildcard examples/*.c)

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
PIC_OBJS := $(LIB_SRCS:%.c=$(BUILD)/pic/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
# The CLI's parsers (config, options) are unit-tested too: everything but main.
CLI_LIB_OBJS := $(filter-out %/main.o,$(CLI_OBJS))
UNIT_OBJS := $(UNIT_SRCS:%.c=$(BUILD)/obj/%.o)
TOOLS := $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
EXAMPLES := $(EXAMPLE_SRCS:examples/%.c=$(BUILD)/examples/%)

STATIC := $(BUILD)/libpymon.a
SONAME := libpymon.so.$(SOVERSION)
SHARED := $(BUILD)/libpymon.so
BIN    := $(BUILD)/py-mon

.PHONY: all test unit integration install uninstall clean bench fuzz lint soak completions python python-test dist version
SOAK_SECONDS ?= 600
all: $(STATIC) $(SHARED) $(BIN)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(PM_CFLAGS) -c $< -o $@

# The command line is a plain client of the library: pymon.h and its own
# headers only, no -Isrc (tests/integration/test_layering.py checks it).
CLI_CFLAGS = $(filter-out -Isrc,$(PM_CFLAGS)) -Isrc/cli

$(BUILD)/obj/src/cli/%.o: src/cli/%.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(CLI_CFLAGS) -c $< -o $@

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC -fPIC $<")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(PM_CFLAGS) -fPIC -c $< -o $@

$(STATIC): $(LIB_OBJS)
	@$(if $(Q),echo "  AR      $@")
	$(Q)rm -f $@ && $(AR) rcs $@ $^

$(SHARED): $(PIC_OBJS)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(PM_LDFLAGS) $(LDFLAGS) -shared -Wl,-soname,$(SONAME) -o $(BUILD)/$(SONAME).$(VERSION:$(SOVERSION).%=%) $^
	$(Q)ln -sf $(SONAME).$(VERSION:$(SOVERSION).%=%) $(BUILD)/$(SONAME)
	$(Q)ln -sf $(SONAME) $@

$(BIN): $(CLI_OBJS) $(STATIC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(PM_LDFLAGS) $(LDFLAGS) -o $@ $(CLI_OBJS) $(STATIC)

# Shell completions, generated from the option table by the binary itself.
COMPLETIONS := $(BUILD)/completions/py-mon $(BUILD)/completions/_py-mon $(BUILD)/completions/py-mon.fish
completions: $(COMPLETIONS)

$(BUILD)/completions/py-mon: $(BIN)
	@mkdir -p $(dir $@)
	$(Q)$(BIN) completions bash > $@
$(BUILD)/completions/_py-mon: $(BIN)
	@mkdir -p $(dir $@)
	$(Q)$(BIN) completions zsh > $@
$(BUILD)/completions/py-mon.fish: $(BIN)
	@mkdir -p $(dir $@)
	$(Q)$(BIN) completions fish > $@

$(BUILD)/unit-tests: $(UNIT_OBJS) $(CLI_LIB_OBJS) $(STATIC)
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(CFLAGS) $(PM_LDFLAGS) $(LDFLAGS) -o $@ $(UNIT_OBJS) $(CLI_LIB_OBJS) $(STATIC)

$(BUILD)/tools/%: tests/tools/%.c $(STATIC)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(PM_CFLAGS) $(PM_LDFLAGS) $(LDFLAGS) -o $@ $< $(STATIC)

# Examples are built against the installed-style interface only: the public
# header and the library, nothing from src/.
$(BUILD)/examples/%: examples/%.c $(STATIC) include/pymon.h
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(CFLAGS) -std=c11 -Wall -Wextra $(WERROR) $(PM_LDFLAGS) -Iinclude -o $@ $< $(STATIC)

test: all $(BUILD)/unit-tests $(TOOLS) $(EXAMPLES) python
	$(Q)BUILD=$(BUILD) sh tests/run.sh

# The Python package built in place (python/pymon/_pymon*.so) with the
# python3 on PATH, which needs its headers and setuptools (Debian:
# python3-dev python3-setuptools). setup.py compiles src/ itself; it only
# rebuilds when a source or header is newer than the extension.
# With SANITIZE=1 the extension is built with ASan + UBSan (gcc) into
# $(BUILD)/python/lib and its tests run with the runtimes preloaded.
# make decides when to rebuild (setuptools' own check has 1 s resolution).
PYTHON ?= python3
PY_SRCS := $(shell find src include -name '*.[ch]') python/pymon/_pymon.c python/pymon/_cli.c python/setup.py
PY_BUILD_ENV = PYTHONWARNINGS=ignore PYMON_WERROR=$(if $(WERROR),1,)
ifeq ($(SANITIZE),1)
PY_SAN_FLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
export PYMON_SANITIZE_PRELOAD := $(shell gcc -print-file-name=libasan.so) $(shell gcc -print-file-name=libubsan.so)
export PYMON_PYTHON_LIB := $(abspath $(BUILD)/python/lib)
ifeq ($(wildcard $(BUILD)/python/lib/pymon/_pymon*.so),)
.PHONY: $(BUILD)/python/stamp
endif
$(BUILD)/python/stamp: $(PY_SRCS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  PY      $(BUILD)/python/lib/pymon/_pymon (ASan+UBSan)")
	$(Q)cd python && $(PY_BUILD_ENV) CC=gcc CFLAGS="$(PY_SAN_FLAGS)" LDFLAGS="$(PY_SAN_FLAGS)" \
	    $(PYTHON) setup.py -q build_ext --force \
	    --build-temp ../$(BUILD)/python/temp --build-lib ../$(BUILD)/python/lib
	$(Q)touch $@
python: $(BUILD)/python/stamp
	$(Q)cp python/pymon/*.py python/pymon/*.pyi python/pymon/py.typed $(BUILD)/python/lib/pymon/
else
# A removed extension is rebuilt even when the stamp is newer.
ifeq ($(wildcard python/pymon/_pymon*.so),)
.PHONY: $(BUILD)/python/stamp
endif
$(BUILD)/python/stamp: $(PY_SRCS)
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  PY      python/pymon/_pymon")
	$(Q)cd python && $(PY_BUILD_ENV) $(PYTHON) setup.py -q build_ext --inplace --force
	$(Q)touch $@
python: $(BUILD)/python/stamp
endif

python-test: python
	$(Q)PYMON_BUILD=$(BUILD) $(PYTHON) python/tests/run.py

unit: $(BUILD)/unit-tests
	$(Q)$(BUILD)/unit-tests

integration: all $(TOOLS) $(EXAMPLES)
	$(Q)PYMON_BUILD=$(BUILD) python3 tests/integration/run.py

bench: all
	$(Q)sh bench/run.sh

fuzz:
	$(Q)sh fuzz/run.sh

# Random churn against a running py-mon; prints its figures.
soak: all
	$(Q)PYMON_BUILD=$(BUILD) python3 tests/soak.py --seconds $(SOAK_SECONDS)

lint:
	$(Q)cppcheck --quiet --error-exitcode=1 --enable=warning,portability \
	    --inline-suppr -Iinclude -Isrc -D_GNU_SOURCE src

install: all completions
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(PKGCONFIGDIR) \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions $(DESTDIR)$(DATADIR)/zsh/vendor-completions \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d
	install -m 644 $(BUILD)/completions/py-mon $(DESTDIR)$(DATADIR)/bash-completion/completions/py-mon
	install -m 644 $(BUILD)/completions/_py-mon $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_py-mon
	install -m 644 $(BUILD)/completions/py-mon.fish $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/py-mon.fish
	install -m 755 $(BIN) $(DESTDIR)$(BINDIR)/py-mon
	install -m 644 $(STATIC) $(DESTDIR)$(LIBDIR)/libpymon.a
	install -m 755 $(BUILD)/$(SONAME).$(VERSION:$(SOVERSION).%=%) $(DESTDIR)$(LIBDIR)/
	ln -sf $(SONAME).$(VERSION:$(SOVERSION).%=%) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libpymon.so
	install -m 644 include/pymon.h $(DESTDIR)$(INCLUDEDIR)/pymon.h
	# Generated here, so it always carries this install's PREFIX.
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' \
	    -e 's|@INCLUDEDIR@|$(INCLUDEDIR)|' -e 's|@VERSION@|$(VERSION)|' \
	    pymon.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/pymon.pc
	chmod 644 $(DESTDIR)$(PKGCONFIGDIR)/pymon.pc
	if [ -f docs/py-mon.1 ]; then install -m 644 docs/py-mon.1 $(DESTDIR)$(MANDIR)/man1/py-mon.1; fi
# Into the live system (no DESTDIR): as root, refresh the dynamic linker's
# cache so programs find libpymon.so.0 at once; say what to do when LIBDIR
# is not a directory the linker searches (py-mon itself links statically).
	$(Q)if [ -z "$(DESTDIR)" ]; then \
	    if [ "$$(id -u)" = 0 ]; then echo "$(LDCONFIG)"; $(LDCONFIG) || exit 1; fi; \
	    if ! $(LDCONFIG) -p 2>/dev/null | grep -qF "=> $(LIBDIR)/$(SONAME)"; then \
	        echo "note: the dynamic linker does not search $(LIBDIR): programs linked with -lpymon need"; \
	        echo "      -Wl,-rpath,$(LIBDIR) or LD_LIBRARY_PATH=$(LIBDIR), or (as root) $(LIBDIR) in a file"; \
	        echo "      in /etc/ld.so.conf.d/ and then ldconfig"; \
	    fi; \
	fi

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/py-mon $(DESTDIR)$(LIBDIR)/libpymon.* \
	    $(DESTDIR)$(INCLUDEDIR)/pymon.h $(DESTDIR)$(PKGCONFIGDIR)/pymon.pc \
	    $(DESTDIR)$(MANDIR)/man1/py-mon.1 \
	    $(DESTDIR)$(DATADIR)/bash-completion/completions/py-mon \
	    $(DESTDIR)$(DATADIR)/zsh/vendor-completions/_py-mon \
	    $(DESTDIR)$(DATADIR)/fish/vendor_completions.d/py-mon.fish
	$(Q)if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" = 0 ]; then $(LDCONFIG); fi

clean:
	rm -rf build build-san python/build python/pymon/_pymon*.so python/*.egg-info

version:
	@echo $(VERSION)

# The release tarball: exactly the files of the last commit (no build
# outputs, no uncommitted changes), under py-mon-VERSION/. git archive
# writes the entries in name order with the commit's time as every mtime,
# and gzip -n leaves out name and time, so the same commit always gives
# the same bytes.
DIST := $(DISTDIR)/py-mon-$(VERSION).tar.gz
dist:
	$(Q)top=$$(git rev-parse --show-toplevel 2>/dev/null) && [ "$$top" -ef . ] && git rev-parse --verify -q HEAD >/dev/null \
	    || { echo "make dist: $(CURDIR) is not the top of a git checkout with a commit (an unpacked tarball cannot make one)" >&2; exit 2; }
	$(Q)if [ -n "$$(git status --porcelain --untracked-files=no)" ]; then echo "make dist: note: uncommitted changes are not in the tarball (it is made from HEAD)" >&2; fi
	$(Q)git archive --format=tar --prefix=py-mon-$(VERSION)/ -o $(DIST).tar HEAD
	$(Q)gzip -n -9 -c $(DIST).tar > $(DIST).tmp && rm -f $(DIST).tar && mv $(DIST).tmp $(DIST)
	@echo "$(DIST)"

-include $(LIB_OBJS:.o=.d) $(PIC_OBJS:.o=.d) $(CLI_OBJS:.o=.d) $(UNIT_OBJS:.o=.d)
