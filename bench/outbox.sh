#!/usr/bin/env bash
# Outbox throughput, commit to consumer (results and how to read them: docs/BENCHMARKS.md).
#
#   ./test.sh --exec bench/outbox.sh [EVENTS] [WRITERS] [EVENTS_PER_COMMIT]
#
# test.sh starts a throwaway PostgreSQL and RabbitMQ and passes them in FLASHMALL_TEST_*; run
# alone, only SQLite and the in-process transport are measured. Defaults: 5000 events from 8
# writers, 5 per commit, 64 aggregates. About a minute per store and transport. Markdown to stdout.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
dotnet build bench/FlashMall.Bench.Outbox -c Release --nologo -v quiet >&2
# WebApplicationFactory finds the server's content root here (the bench is not a test project).
export ASPNETCORE_TEST_CONTENTROOT_FLASHMALL_SERVER="$PWD/src/FlashMall.Server"
exec dotnet bench/FlashMall.Bench.Outbox/bin/Release/net10.0/FlashMall.Bench.Outbox.dll "$@"
