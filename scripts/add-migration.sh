#!/usr/bin/env bash
# Adds a migration to one module for both providers (SQLite and PostgreSQL).
#   scripts/add-migration.sh Catalog AddProductImages
# Each module keeps its migrations in Persistence/Migrations/{Sqlite,Postgres}, generated from
# its provider-specific context (XxxSqliteDbContext, XxxPostgresDbContext).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
module="${1:?usage: $0 MODULE NAME}"
name="${2:?usage: $0 MODULE NAME}"
project="src/Modules/FlashMall.$module"
[[ -d "$project" ]] || { echo "no module at $project" >&2; exit 1; }
dotnet tool restore >/dev/null
for provider in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project "$project" --startup-project "$project" \
    --context "${module}${provider}DbContext" --output-dir "Persistence/Migrations/$provider" \
    --namespace "FlashMall.$module.Persistence.Migrations.$provider"
  # dotnet ef places the model snapshot by namespace; keep it beside its migrations.
  if compgen -G "$project/FlashMall/$module/Persistence/Migrations/$provider/*Snapshot.cs" >/dev/null; then
    mv "$project/FlashMall/$module/Persistence/Migrations/$provider/"*Snapshot.cs "$project/Persistence/Migrations/$provider/"
  fi
done
rm -rf "$project/FlashMall"
