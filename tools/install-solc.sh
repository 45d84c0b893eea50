#!/usr/bin/env bash
# Installs tools/solc-adapter.js as a native-looking `solc` where py-solc-x looks for it
# ($SOLCX_BINARY_PATH, else ~/.solcx, file solc-v<version>) and as .venv/bin/solc.
# A native solc of the pinned version already there is left alone and used; anything else there
# (an older adapter, solc-select's downloading shim) is replaced.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
version="$(node -p "require('$root/package.json').dependencies.solc")"
config_version="$(sed -n 's/^ *version: *\([0-9.]*\).*/\1/p' "$root/brownie-config.yaml" | head -n1)"
if [ "$version" != "$config_version" ]; then
  echo "install-solc: package.json pins solc $version but brownie-config.yaml asks for $config_version" >&2
  exit 1
fi
marker="# medchain-solc-adapter"
wrapper="#!/usr/bin/env bash
$marker $root
exec node \"$root/tools/solc-adapter.js\" \"\$@\""
install_one() {
  local target="$1"
  # a native compiler (an ELF binary) of the pinned version is used as it is
  if [ -f "$target" ] && [ "$(head -c4 "$target" | tr -d '\0')" = $'\x7fELF' ] \
     && "$target" --version 2>/dev/null | grep -q "Version: $version"; then
    echo "install-solc: keeping native $target"
    return
  fi
  if [ -f "$target" ] && [ "$(cat "$target")" = "$wrapper" ]; then
    return
  fi
  mkdir -p "$(dirname "$target")"
  printf '%s\n' "$wrapper" > "$target.tmp"
  chmod +x "$target.tmp"
  mv "$target.tmp" "$target"
  echo "install-solc: $target -> solc-js $version"
}
solcx_dir="${SOLCX_BINARY_PATH:-$HOME/.solcx}"
install_one "$solcx_dir/solc-v$version"
install_one "$root/.venv/bin/solc"
