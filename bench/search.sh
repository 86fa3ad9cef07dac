#!/usr/bin/env bash
# Search: queries/s and p50/p99 on each adapter beside a SQL LIKE baseline on the same products,
# and index build time (results and how to read them: docs/BENCHMARKS.md).
#
#   ./test.sh --exec bench/search.sh [PRODUCTS] [SECONDS_PER_TARGET] [CALLERS]
#   bench/search.sh [PRODUCTS] [SECONDS_PER_TARGET] [CALLERS]      (no Sphinx: Lucene and LIKE only)
#
# Defaults: 100000 generated bilingual products, 10 s of load per target (at most 30 s in all),
# 2 concurrent callers. The targets are called in process (no HTTP): the adapters' own cost.
# Everything runs on 127.0.0.1 (test.sh starts the Sphinx searchd and passes FLASHMALL_TEST_SPHINX).
# Markdown to stdout, progress to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
products="${1:-100000}"
seconds="${2:-10}"
callers="${3:-2}"
((seconds >= 1 && seconds <= 20)) || { echo "search.sh: SECONDS_PER_TARGET must be 1-20 (at most 60 s of load in all)" >&2; exit 2; }
dotnet build bench/FlashMall.Bench.Search -c Release --nologo -v quiet >&2
echo "command: ${0#./} $*" >&2
exec dotnet bench/FlashMall.Bench.Search/bin/Release/net10.0/FlashMall.Bench.Search.dll "$products" "$seconds" "$callers"
