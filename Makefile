# Beer Locker: `make test` runs every test from a fresh clone, installing
# what the tests need when it is missing.
.PHONY: test vet fmt-check tools run bench fuzz

GO ?= go

test: tools fmt-check vet
	$(GO) test -race -count=1 -timeout 40m ./...

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
