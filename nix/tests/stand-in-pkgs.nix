# TEST-ONLY. NOT nixpkgs, and never to be used to build a real cell.
#
# A minimal stand-in for the few parts of nixpkgs that ../lib.nix uses, so
# that //nix:nix_test can build mkCell's derivation for real on a machine
# where nixpkgs cannot be downloaded (no network; Debian's nix-bin only).
# Everything here is built with `builtins.derivation` and the host's own
# shell and coreutils: that works only because the test builds on a
# private store with `sandbox = false` (testing/nix_daemon.cc), where a
# builder sees the host's /bin and /usr. The results are therefore not
# reproducible and depend on the host: fine for a test, wrong anywhere
# else.
#
# Only `pkgs` is stood in for: the test imports the real ../lib.nix with
# this set and calls its real mkCell (tests/mkcell-build.nix).
{ system ? builtins.currentSystem }:
let
  # The host's tools: mkdir, cat, cp, chmod from coreutils, under /bin
  # (usr-merged on Debian 12) or /usr/bin.
  hostPath = "/usr/bin:/bin";

  # What stdenv.mkDerivation does with `passthru` and `meta`: kept out of
  # the builder's environment (they hold attrsets, which a derivation
  # cannot take) and attached to the result.
  withPassthru = drv: attrs:
    drv // (attrs.passthru or { }) // { meta = attrs.meta or { }; };

  runCommand = name: env: buildCommand:
    let
      attrs = builtins.removeAttrs env [ "passthru" "meta" ];
      drv = builtins.derivation (attrs // {
        inherit name system buildCommand;
        builder = "/bin/sh";
        # As nixpkgs' runCommand: the script is a file, not argv.
        passAsFile = [ "buildCommand" ] ++ (env.passAsFile or [ ]);
        args = [ "-eu" "-c" ". \"$buildCommandPath\"" ];
        PATH = hostPath;
      });
    in
    withPassthru drv env;

  lib = {
    isDerivation = value:
      builtins.isAttrs value && (value.type or null) == "derivation";

    # nixpkgs' lib.getExe: meta.mainProgram, else the name without its
    # version.
    getExe = drv:
      "${drv}/bin/${drv.meta.mainProgram or (builtins.parseDrvName drv.name).name}";

    concatMapStrings = f: list: builtins.concatStringsSep "" (map f list);
  };
in
{
  inherit lib runCommand system;

  writeText = name: text:
    runCommand name { inherit text; passAsFile = [ "text" ]; } ''
      cp "$textPath" "$out"
    '';

  # nixpkgs' runtimeShell is bash, and lib.nix's wrapper needs it
  # (`exec -a`, which Debian's /bin/sh, dash, lacks).
  runtimeShell = "/bin/bash";

  # The host's tinyproxy (Debian's package), behind a store path as
  # nixpkgs' would be.
  tinyproxy = runCommand "tinyproxy" { meta.mainProgram = "tinyproxy"; } ''
    mkdir -p "$out/bin"
    printf '#!/bin/sh\nexec /usr/bin/tinyproxy "$@"\n' > "$out/bin/tinyproxy"
    chmod +x "$out/bin/tinyproxy"
  '';
}
