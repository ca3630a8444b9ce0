# Sourced by the scripts that run a cargo subcommand (deny.sh, sbom.sh,
# fuzz/smoke.sh): installs the pinned version when another or none is there.

ensure_cargo_tool() { # crate version
  local crate="$1" version="$2" subcommand="${1#cargo-}"
  if ! cargo "$subcommand" --version 2>/dev/null | grep -qw "$version"; then
    echo "==> installing $crate $version"
    # Its own target folder: the workspace's would be rebuilt for its features.
    CARGO_TARGET_DIR="$HOME/.cache/vigil-tools-target" \
      cargo install --quiet --locked "$crate" --version "$version"
  fi
}
