#!/usr/bin/env bash
# Packages every publishable crate as `cargo publish` would upload it, and builds each package
# from its .crate alone, so that a crate that cannot be published fails here and not at
# release time:
#   1. `cargo package --list`, crate by crate: it must succeed with no warning (missing
#      metadata, a readme or license file that is not there, ...) and hold README.md,
#      LICENSE-MIT and LICENSE-APACHE.
#   2. `cargo package --all-features -p ... -p ...` for all of them at once: the workspace's
#      crates depend on one another and none is on crates.io yet; cargo 1.90+ (multi-package
#      packaging, stable since 1.90; before, only with --no-verify --exclude-lockfile) packages them
#      in dependency order and resolves each one's Sonic dependencies through a temporary local
#      registry of the packages just made (target/package/tmp-registry). Each package is then
#      verified: unpacked under target/package/ and built with every feature, from the
#      packaged files only, against the locked crates.io versions.
# The crates.io index must be reachable (like every other cargo step); nothing is uploaded.
# The working tree may be dirty (`--allow-dirty`): this checks the packages, not git.
# The facade sonic-db/ is included when its folder exists.
#
# Usage: scripts/package-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

started=$SECONDS

# Dependency order (cargo orders them itself as well): sonic-db-derive and sonic-db-core depend
# on sonic-db-sql-text; sonic-db-core optionally on sonic-db-derive; the backends and the suite on sonic-db-core; the facade on all but the suite.
crates=(sonic-db-sql-text sonic-db-derive sonic-db-core sonic-db-d1 sonic-db-do sonic-db-kv sonic-db-shard sonic-db-conformance sonic-db-api)
if [ -d sonic-db ]; then
    crates+=(sonic-db)
else
    echo "note: sonic-db/ does not exist: the facade is not packaged"
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT

failed=0
for crate in "${crates[@]}"; do
    if ! files=$(cargo package --allow-dirty --list -p "$crate" 2>"$log"); then
        echo "error: $crate: cargo package --list failed:" >&2
        cat "$log" >&2
        failed=1
        continue
    fi
    if grep -q '^warning' "$log"; then
        echo "error: $crate: cargo package warns:" >&2
        cat "$log" >&2
        failed=1
    fi
    for required in README.md LICENSE-MIT LICENSE-APACHE; do
        if ! grep -qx "$required" <<<"$files"; then
            echo "error: $crate: the package has no $required" >&2
            failed=1
        fi
    done
    echo "$crate: $(wc -l <<<"$files") files listed"
done
if [ "$failed" -ne 0 ]; then
    exit 1
fi

# Cargo unpacks the temporary registry's packages into its own registry source cache, keyed by
# name and version, and reuses what it finds there: a package of the same version packaged
# earlier on this machine would be verified instead of the new one. None of these names comes
# from crates.io, so those copies are removed first.
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for crate in "${crates[@]}"; do
    rm -rf "$cargo_home"/registry/src/*/"$crate"-[0-9]* "$cargo_home"/registry/cache/*/"$crate"-[0-9]*.crate
done

# The verification builds treat those packages as registry crates, whose build cargo reuses
# for the same name and version however their source changed: they get a target directory of
# their own, started from nothing.
target_dir=$(cargo metadata --format-version 1 --no-deps |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')/package-check
rm -rf "$target_dir"

args=()
for crate in "${crates[@]}"; do
    args+=(-p "$crate")
done
cargo package --allow-dirty --all-features --target-dir "$target_dir" "${args[@]}"

for crate in "${crates[@]}"; do
    ls -l "$target_dir"/package/"$crate"-[0-9]*.crate | awk '{print $5, $NF}'
done
echo "packaged and verified ${#crates[@]} crates in $((SECONDS - started))s"
