# Beer Locker: `make test` runs every test from a fresh clone, installing
# what the tests need when it is missing.
.PHONY: test vet fmt-check tools run

GO ?= go

test: tools fmt-check vet
	BEERLOCKER_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 40m ./...
	# The Go benchmarks are not tests, but they must keep compiling and running.
	$(GO) test -run '^$$' -bench . -benchtime 1x ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt needed on:"; echo "$$out"; exit 1; fi

# tools installs what the tests need beyond Go; see scripts/tools.sh.
tools:
	@./scripts/tools.sh

run:
	$(GO) run .

# postman runs the Postman walkthrough (docs/postman) with newman against a
# server you start yourself, e.g. `go run .` in another terminal, then:
#   make postman                                  # http://localhost:3000
#   make postman BASE_URL=http://127.0.0.1:8080
# Each run registers its own user and deletes it at the end, so it can be
# re-run against a long-lived server. newman comes from scripts/tools.sh.
.PHONY: postman
BASE_URL ?= http://localhost:3000
NEWMAN ?= $(if $(wildcard .tools/node_modules/.bin/newman),.tools/node_modules/.bin/newman,newman)
postman:
	@command -v $(NEWMAN) >/dev/null || { echo "newman not found; run scripts/tools.sh"; exit 1; }
	$(NEWMAN) run docs/postman/beerlocker.postman_collection.json \
		-e docs/postman/local.postman_environment.json \
		--env-var baseUrl=$(BASE_URL) --bail

# bench runs the load benchmark (bench/run.sh; not a test, CI does not run it):
#   make bench                 # W1-W5 on Beer Locker, medians of REPS runs
#   make bench PEERS=1         # side by side with ../shared/peers on W1-W3
#   make bench SCALE=1         # W2 and W1 again on a store holding 10^6 tokens
#                              # and 10^5 live revocations
#   make bench REDIS=1         # W1 and W2 again with REDIS_URL on a redis-server
#                              # of its own, side by side; Redis commands/request
#   make bench REPS=1 DURATION=3s
# The modes combine (PEERS=1 REDIS=1 ...): each adds runs to W1-W5 on Beer
# Locker alone. Results go to bench/results/<timestamp>/ (git-ignored).
.PHONY: bench
bench:
	PEERS="$(PEERS)" SCALE="$(SCALE)" REDIS="$(REDIS)" REPS="$(REPS)" DURATION="$(DURATION)" ./bench/run.sh

# fuzz runs every Go fuzz target (func FuzzXxx in *_test.go) one after
# another, FUZZTIME each; `go test` alone replays their committed seeds
# (testdata/fuzz/). A failing input lands in testdata/fuzz/FuzzXxx/: fix
# the parser, then commit the input as a seed. See scripts/fuzz.sh.
#   make fuzz                    # 30s per target
#   make fuzz FUZZTIME=5m
#   make fuzz FUZZ=FuzzCursor    # only targets matching a regexp
.PHONY: fuzz
FUZZTIME ?= 30s
FUZZ ?= .
fuzz:
	FUZZTIME=$(FUZZTIME) GO=$(GO) ./scripts/fuzz.sh '$(FUZZ)'

# soak runs the long modes of the hardening tests against the real binary
# (e2e/soak_test.go, e2e/crash_test.go); `make test` runs their short
# modes (3000 garbage requests, 3 kills). Replay a failure with the seed
# the test prints:
#   make soak SOAK_ARGS='-soak.seed=123'
.PHONY: soak
SOAK_N ?= 20000
CRASH_N ?= 20
soak:
	$(GO) test -run 'TestGarbageSoak|TestCrashSafety' -count=1 -v -timeout 60m ./e2e \
		-args -soak.n=$(SOAK_N) -crash.n=$(CRASH_N) $(SOAK_ARGS)
