#!/usr/bin/env bash
# Adds a migration to one module (or adapter with its own store) for both providers.
#   scripts/add-migration.sh Catalog AddProductImages
#   scripts/add-migration.sh Scheduling AddSomething      (src/Adapters/FlashMall.Scheduling)
# A module keeps its migrations in Persistence/Migrations/{Sqlite,Postgres}, generated from its
# provider-specific contexts (XxxSqliteDbContext, XxxPostgresDbContext); an adapter in Migrations/.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
module="${1:?usage: $0 MODULE NAME}"
name="${2:?usage: $0 MODULE NAME}"
project="src/Modules/FlashMall.$module"
folder="Persistence/Migrations"
if [[ ! -d "$project" ]]; then
  project="src/Adapters/FlashMall.$module"
  folder="Migrations"
fi
[[ -d "$project" ]] || { echo "no module or adapter named $module" >&2; exit 1; }
dotnet tool restore >/dev/null
for provider in Sqlite Postgres; do
  dotnet ef migrations add "$name" --project "$project" --startup-project "$project" \
    --context "${module}${provider}DbContext" --output-dir "$folder/$provider" \
    --namespace "FlashMall.$module.${folder//\//.}.$provider"
  # dotnet ef places the model snapshot by namespace; keep it beside its migrations.
  if compgen -G "$project/FlashMall/$module/$folder/$provider/*Snapshot.cs" >/dev/null; then
    mv "$project/FlashMall/$module/$folder/$provider/"*Snapshot.cs "$project/$folder/$provider/"
  fi
done
rm -rf "$project/FlashMall"
