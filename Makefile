# Beer Locker: `make test` runs every test from a fresh clone, installing
# what the tests need when it is missing.
.PHONY: test vet fmt-check tools run

GO ?= go

test: tools fmt-check vet
	BEERLOCKER_REQUIRE_TOOLS=1 $(GO) test -race -count=1 -timeout 40m ./...

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
