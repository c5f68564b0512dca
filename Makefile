# fanin — run `make help` for the targets.
.DEFAULT_GOAL := help
GO ?= go

.PHONY: help test test-short test-full fuzz bench lint

help: ## Show the targets and what they do
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z_-]+:.*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

test: ## What CI runs: install redis-server and chromium if missing, go vet, go test -race ./..., no leftover servers
	@scripts/test

test-short: ## Quick run: go test -short ./... (no race detector)
	$(GO) test -short -count=1 ./...

test-full: ## The fault, load and end-to-end suites, the cache differential and lock linearizability tests at full size (FANIN_FULL=1; up to an hour), see docs/RELIABILITY.md
	FANIN_FULL=1 $(GO) test -race -count=1 -timeout 60m -v ./jobs/ ./test/
	FANIN_FULL=1 $(GO) test -race -count=1 -p 1 -timeout 60m -run 'TestDifferential|TestLinearizability' ./cache/ ./locks/

fuzz: ## Run each fuzz target for 30 s (FUZZTIME=...)
	$(GO) test -run '^$$' -fuzz FuzzDecodeChunk -fuzztime $${FUZZTIME:-30s} ./jobs/
	$(GO) test -run '^$$' -fuzz FuzzRead -fuzztime $${FUZZTIME:-30s} ./internal/eventfile/
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $${FUZZTIME:-30s} ./internal/redisurl/
	$(GO) test -run '^$$' -fuzz FuzzDifferential -fuzztime $${FUZZTIME:-30s} ./cache/

bench: ## Benchmarks of the main module and of the bench/ module (peers live there)
	$(GO) test -run '^$$' -bench . -benchmem ./...
	@if [ -f bench/go.mod ]; then cd bench && $(GO) test -run '^$$' -bench . -benchmem ./...; fi

lint: ## gofmt check and go vet, plus staticcheck when it installs from the module proxy
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	@if $(GO) run honnef.co/go/tools/cmd/staticcheck@latest -version >/dev/null 2>&1; then \
		$(GO) run honnef.co/go/tools/cmd/staticcheck@latest ./...; \
	else echo "staticcheck did not install from the module proxy; skipped"; fi
