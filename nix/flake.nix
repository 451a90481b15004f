{
  description = "cell: a small, fast Linux sandbox for AI coding agents that verifies itself";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-24.05";

  outputs = { self, nixpkgs }:
    let
      inherit (nixpkgs) lib;
      # The seed listed every system in flakeExposed; cells need Linux
      # namespaces, so only the Linux ones are real.
      systems = builtins.filter (lib.hasSuffix "-linux") lib.systems.flakeExposed;
      forAllSystems = f: lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
      cellFor = pkgs: pkgs.callPackage ./package.nix { };
      libFor = pkgs: import ./lib.nix { inherit pkgs; cell = cellFor pkgs; };

      # The example cell of the checks: the documented default (a worktree,
      # the store, the daemon, egress only through the proxy) running bash.
      exampleFor = pkgs: (libFor pkgs).mkCell {
        name = "example-cell";
        command = pkgs: pkgs.bashInteractive;
        tinyproxyFilter = [ "^cache\\.nixos\\.org$" "^github\\.com$" ];
        extraCombinators = [
          (pkgs: self.lib.combinators.sslCertificates {
            bundle = "${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt";
          })
        ];
      };
    in
    {
      packages = forAllSystems (pkgs: rec {
        cell = cellFor pkgs;
        default = cell;
        example-cell = exampleFor pkgs;
      });

      lib = {
        # mkCell { command; worktreePath; extraCombinators; tinyproxyFilter;
        #          logDir; nixDaemonSocket; nixStore; name; network;
        #          isolation; }
        # -> { <system> = derivation; } for every Linux system, as the
        # seed's did. `mkCellFor pkgs args` builds for one nixpkgs.
        mkCell = args: forAllSystems (pkgs: (libFor pkgs).mkCell args);
        mkCellFor = pkgs: (libFor pkgs).mkCell;
        # Extra mounts and env in the spec's vocabulary (./combinators.nix).
        combinators = import ./combinators.nix;
        # Parameters -> spec, pure (./spec.nix).
        specFor = import ./spec.nix;
      };

      # `nix flake check`: the example cell's spec is verified end to end
      # against the documented profile, with a nix-daemon on a private store
      # (the build sandbox has no host daemon).
      checks = forAllSystems (pkgs:
        let cell = cellFor pkgs; example = exampleFor pkgs; in {
          verify-example = pkgs.runCommand "cell-verify-example"
            {
              nativeBuildInputs = [ pkgs.bash pkgs.coreutils pkgs.tinyproxy pkgs.nix ];
            }
            ''
              mkdir -p $out
              bash ${./..}/policy/verify-cell.sh ${cell}/bin ${example.specFile} \
                --profile=documented --format=junit --output=$out/report.xml
            '';
        });
    };
}
