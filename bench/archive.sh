#!/usr/bin/env bash
# Business archive: the Parquet writer and DuckDB's GMV report over its files, beside the same rows
# as CSV (results and how to read them: docs/BENCHMARKS.md).
#
#   bench/archive.sh [ROWS]        default 1000000 generated order lines
#
# No servers; files in a temp folder, removed at the end. Markdown to stdout, progress to stderr.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
rows="${1:-1000000}"
dotnet build bench/FlashMall.Bench.Archive -c Release --nologo -v quiet >&2
echo "command: ${0#./} $*" >&2
exec dotnet bench/FlashMall.Bench.Archive/bin/Release/net10.0/FlashMall.Bench.Archive.dll "$rows"
