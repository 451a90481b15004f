# The real ../lib.nix mkCell, built for real by //nix:nix_test on a private
# store with a private nix-daemon. Only `pkgs` is a stand-in
# (./stand-in-pkgs.nix, test-only: nixpkgs cannot be downloaded here);
# `cell` is the Bazel-built launcher, copied into that store.
#
# Host paths come from the test: `launcher` (the static //launcher:cell,
# a real file, not a runfiles symlink), `worktree` (owned by `hostUser`),
# and the private daemon's `store` and `daemon` socket directory.
{ launcher, worktree, store, daemon, hostUser ? "nobody" }:
let
  pkgs = import ./stand-in-pkgs.nix { };

  # The `cell` argument as the flake passes it: a derivation whose
  # bin/cell is the launcher.
  cell = pkgs.runCommand "cell" { meta.mainProgram = "cell"; } ''
    mkdir -p "$out/bin"
    cp ${builtins.path { path = /. + launcher; name = "cell-launcher"; }} "$out/bin/cell"
    chmod 555 "$out/bin/cell"
  '';

  cellLib = import ../lib.nix { inherit pkgs cell; };
  c = cellLib.combinators;

  # Runs inside the cell: proves where it is, then leaves a marker in the
  # worktree and exits with a status of its own for the test to see. Shell
  # built-ins only: the cell's PATH is the store's, which has no coreutils.
  script = ''
    set -eu
    test "$(pwd)" = /home/cell/worktree
    test "$NIX_REMOTE" = unix:///run/nix/socket && test -S /run/nix/socket
    test -n "$HTTPS_PROXY" && test "$MKCELL" = yes
    echo "mkcell-ok $*" > mkcell-marker
    exit 7
  '';

  packed = cellLib.mkCell {
    name = "mkcell-test-cell";
    # The seed's form, `pkgs -> command`, here giving argv.
    command = _: [ "/bin/sh" "-c" script "mkcell" ];
    tinyproxyFilter = [ "^github\\.com$" "^cache\\.nixos\\.org$" ];
    worktreePath = worktree;
    nixStore = store;
    nixDaemonSocket = daemon;
    inherit hostUser;
    isolation = { pidNamespace = true; };
    # Both forms mkCell takes: fragments, and `pkgs -> fragment`.
    extraCombinators = [
      (c.roBind { src = "/usr"; })
      (_: c.roBind { src = "/bin"; })
      (c.roBind { src = "/lib"; })
      (c.roBind { src = "/lib64"; optional = true; })
      (c.setEnv { MKCELL = "yes"; })
    ];
  };
in
{
  inherit packed cell;
  inherit (packed) specFile;
  inherit (pkgs) tinyproxy;
}
