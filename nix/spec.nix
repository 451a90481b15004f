# mkCell's parameters -> a cell spec (docs/spec.md, version 1), as a Nix
# value; `builtins.toJSON` of it is the spec file. Pure Nix: no nixpkgs, so
# it is evaluated and tested anywhere (nix-instantiate --eval --strict
# --json). mkCell (lib.nix) turns `command` (pkgs -> derivation) into argv
# and combinator functions into fragments before calling this.
#
# Field names are the seed's: worktreePath, tinyproxyFilter, logDir,
# nixDaemonSocket, extraCombinators.
{
  # argv, a list of strings; argv[0] is looked up on the cell's PATH.
  command
, # Host directory bound read-write at /home/cell/worktree. Relative paths
  # are resolved where the cell runs: "." is the directory it is run in.
  worktreePath ? "."
, # Fragments from ./combinators.nix (extra mounts and env), in order.
  extraCombinators ? [ ]
, # Filter file (one extended regex per line) as a host path string, or
  # null for allow-all.
  tinyproxyFilter ? null
, # Host directory for the proxy's logs, or null.
  logDir ? null
, # Host directory holding the nix daemon's `socket`. NIX_REMOTE inside
  # always points at it (bound at /run/nix): the seed hard-coded the
  # default socket even when this was changed.
  nixDaemonSocket ? "/nix/var/nix/daemon-socket"
, nixStore ? "/nix/store"
, nix ? true
, # PATH inside; null = the launcher's default (the store's nix and
  # coreutils).
  path ? null
, # { mode = "proxy" | "none"; engine = "builtin" | "tinyproxy"; port; },
  # partial.
  network ? { }
, # { pidNamespace; ipcNamespace; capabilities = "all" | "none"; seccomp;
  #   readOnlyRoot; },
  # partial.
  isolation ? { }
, # { rlimits = { nofile = 1024; ... }; memoryMax (bytes); pidsMax; },
  # partial; memoryMax and pidsMax need a cgroup (root or delegation).
  limits ? { }
, # A root launcher runs the cell as this host user (a name or a uid), as
  # if that user had started it; null = the launcher's own user. A cell
  # of root is host root to the kernel and trusted by the Nix daemon, so
  # a root launcher with nix needs one.
  hostUser ? null
}:
let
  combinators = import ./combinators.nix;
  extra = combinators.merge extraCombinators;
  str = v: if v == null then null else toString v;
  known = names: what: attrs:
    let unknown = builtins.filter (n: !(builtins.elem n names)) (builtins.attrNames attrs);
    in if unknown == [ ] then attrs
       else throw "cell: unknown ${what} field '${builtins.head unknown}' (known: ${builtins.concatStringsSep ", " names})";
in
assert builtins.isList command && command != [ ]
  || throw "cell: command must be a non-empty list of strings";
{
  version = 1;
  command = map toString command;
  worktreePath = toString worktreePath;
  tinyproxyFilter = str tinyproxyFilter;
  logDir = str logDir;
  nixDaemonSocket = toString nixDaemonSocket;
  nixStore = toString nixStore;
  inherit nix;
  mounts = extra.mounts;
  env = extra.env;
  network = { mode = "proxy"; engine = "builtin"; port = 3128; }
    // known [ "mode" "engine" "port" ] "network" network;
  isolation = { pidNamespace = false; ipcNamespace = false; capabilities = "all"; seccomp = false; readOnlyRoot = false; }
    // known [ "pidNamespace" "ipcNamespace" "capabilities" "seccomp" "readOnlyRoot" ] "isolation" isolation;
  limits = { rlimits = { }; memoryMax = null; pidsMax = null; }
    // known [ "rlimits" "memoryMax" "pidsMax" ] "limits" limits;
} // (if path == null then { } else { path = map toString path; })
  // (if hostUser == null then { } else { hostUser = toString hostUser; })
