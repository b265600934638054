# framewise — the two commands that matter: `make demo` and `make test`.
# CMake does the building underneath; scripts/deps.sh installs Debian packages.
BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS       ?= 2
PREFIX     ?= /usr/local

.PHONY: all build deps demo test test-release test-asan asan bench fuzz format clean install

all: build

deps:
	@bash scripts/deps.sh build

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(BUILD) -j$(JOBS)

asan: deps
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DFW_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j$(JOBS)

demo:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build
	@bash scripts/demo.sh $(BUILD)/framewise

test:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory test-release
	@$(MAKE) --no-print-directory test-asan

test-release: build
	@cd $(BUILD) && ctest --output-on-failure -j$(JOBS)

test-asan: asan
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j$(JOBS)

bench:
	@bash scripts/deps.sh bench
	@$(MAKE) --no-print-directory build
	@bash bench/keyframes.sh
	@bash bench/coverage.sh
	@bash bench/analyze.sh
	@bash bench/tokens.sh
	@bash bench/ocr.sh
	@bash bench/story.sh
	@bash bench/store.sh
	@bash bench/serve.sh
	@bash bench/scale_endpoints.sh

# The fuzz targets of tests/fuzz with libFuzzer, ASan and UBSan (clang), FUZZ_SECONDS each,
# in $(FUZZ_BUILD); the table goes to bench/results/fuzz.md. make test replays their corpora.
fuzz:
	@bash scripts/deps.sh fuzz
	@JOBS=$(JOBS) bash scripts/fuzz.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

# bin/framewise, lib/libframewise.so*, include/framewise.h, lib/pkgconfig/framewise.pc,
# share/framewise/presets, share/man/man1/framewise.1 under $(DESTDIR)$(PREFIX).
install: build
	@DESTDIR="$(DESTDIR)" cmake --install $(BUILD) --prefix "$(PREFIX)"

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
