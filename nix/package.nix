# The launcher, the probe and cell-verify, built with Bazel from this
# source tree. The WORKSPACE needs nothing from the network: rules_cc and
# rules_java are local stand-ins and every library comes from pkg-config,
# here nixpkgs' static builds (the launcher and probe link fully static).
{ lib
, stdenv
, bazel_6
, pkg-config
, pkgsStatic
, glibc
, tinyproxy
, nix
}:
stdenv.mkDerivation {
  pname = "cell";
  version = "0.1.0";
  src = lib.cleanSourceWith {
    src = ./..;
    filter = path: type: !(lib.hasPrefix "bazel-" (baseNameOf path));
  };
  nativeBuildInputs = [ bazel_6 pkg-config ];
  buildInputs = [
    pkgsStatic.abseil-cpp
    pkgsStatic.re2
    pkgsStatic.gtest
    pkgsStatic.nlohmann_json
    pkgsStatic.http-parser
    glibc.static
  ];
  dontConfigure = true;
  buildPhase = ''
    runHook preBuild
    export HOME=$TMPDIR
    bash nix/build.sh $out --output_user_root=$TMPDIR/bazel
    runHook postBuild
  '';
  dontInstall = true;
  # cell-verify and tests want these at run time; the launcher finds
  # tinyproxy on PATH or through CELL_TINYPROXY.
  passthru.runtimeTools = [ tinyproxy nix ];
  meta = {
    description = "Small, fast, self-verifying Linux sandbox for AI coding agents";
    platforms = lib.platforms.linux;
    mainProgram = "cell";
  };
}
