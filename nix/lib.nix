# mkCell for one nixpkgs: the seed's parameters -> a derivation whose
# bin/NAME runs `command` in its cell (a packed cell: `cell pack`, so the
# spec travels inside the executable). The spec itself comes from the pure
# ./spec.nix; this file only does what needs nixpkgs.
{ pkgs, cell }:
let
  inherit (pkgs) lib;
  combinators = import ./combinators.nix;

  # The seed's `command` is `pkgs -> derivation`. Also accepted: a list of
  # strings (argv) or a string, from the function or directly.
  argvOf = command:
    let value = if builtins.isFunction command then command pkgs else command; in
    if builtins.isList value then value
    else if lib.isDerivation value then [ (lib.getExe value) ]
    else [ (toString value) ];

  # A list of regexes becomes a filter file in the store (it is policy, not
  # a secret); a path or derivation is used as the file; a string is a host
  # path read when the cell runs.
  filterOf = filter:
    if filter == null then null
    else if builtins.isList filter then
      toString (pkgs.writeText "cell-filter" (lib.concatMapStrings (l: l + "\n") filter))
    else toString filter;
in
{
  mkCell =
    { command
    , name ? "cell"
    , worktreePath ? "."
    , extraCombinators ? [ ]
    , tinyproxyFilter ? null
    , logDir ? null
    , nixDaemonSocket ? "/nix/var/nix/daemon-socket"
      # The store bound read-only at /nix/store: a daemon on another
      # store (a private one, as //nix:nix_test builds with) needs it, as
      # it needs nixDaemonSocket.
    , nixStore ? "/nix/store"
    , network ? { }
    , isolation ? { }
    , path ? null
    , hostUser ? null
    }:
    let
      spec = import ./spec.nix {
        command = argvOf command;
        inherit worktreePath logDir nixDaemonSocket nixStore network isolation
          path hostUser;
        tinyproxyFilter = filterOf tinyproxyFilter;
        extraCombinators =
          map (c: if builtins.isFunction c then c pkgs else c) extraCombinators;
      };
      specFile = pkgs.writeText "${name}-spec.json" (builtins.toJSON spec);
    in
    pkgs.runCommand name
      {
        passthru = { inherit spec specFile; };
        meta.mainProgram = name;
      }
      ''
        mkdir -p $out/bin $out/libexec
        # Host paths (worktree, daemon socket) exist where the cell runs,
        # not in this build sandbox: they are checked at each run.
        ${cell}/bin/cell pack --spec=${specFile} \
          --output=$out/libexec/${name} --unchecked-paths
        # tinyproxy from this nixpkgs unless the caller chose another.
        cat > $out/bin/${name} <<WRAPPER
        #!${pkgs.runtimeShell}
        export CELL_TINYPROXY="\''${CELL_TINYPROXY:-${pkgs.tinyproxy}/bin/tinyproxy}"
        exec -a "\$0" $out/libexec/${name} "\$@"
        WRAPPER
        chmod +x $out/bin/${name}
      '';

  inherit combinators;
}
