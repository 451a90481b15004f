# Combinators: small pieces of a cell, in the cell spec's own vocabulary.
# Pure Nix (no nixpkgs), so that they are evaluated and tested anywhere.
#
# Each returns a fragment { mounts = [ ... ]; env = { ... }; } that mkCell
# (and spec.nix) append to the cell's spec, in order. A mount is a spec
# mount: { type = "ro-bind" | "bind" | "tmpfs" | "dir" | "symlink"; src;
# dst; optional; } (docs/spec.md).
let
  fragment = { mounts ? [ ], env ? { } }: { inherit mounts env; };

  # A store path (or anything derived from a derivation) is public: every
  # user of the machine can read /nix/store. Secrets must stay outside it.
  isStoreString = s:
    builtins.hasContext s
    || builtins.substring 0 (builtins.stringLength builtins.storeDir + 1) s
       == builtins.storeDir + "/";

  checkSecretPath = name: hostPath:
    if builtins.isPath hostPath then
      throw ("cell secretFile ${name}: hostPath is a Nix path literal, which "
        + "copies the secret into the world-readable store; pass it as a "
        + "string, e.g. \"/run/secrets/${name}\"")
    else if !(builtins.isString hostPath) then
      throw "cell secretFile ${name}: hostPath must be a string"
    else if isStoreString hostPath then
      throw ("cell secretFile ${name}: '${builtins.unsafeDiscardStringContext hostPath}' "
        + "is in the Nix store, readable by every user; keep secrets outside "
        + "it (e.g. /run/secrets, ~/.config/...)")
    else if builtins.substring 0 1 hostPath != "/" then
      throw "cell secretFile ${name}: hostPath '${hostPath}' must be absolute"
    else
      hostPath;

  validSecretName = name:
    builtins.match "[A-Za-z0-9_.-]+" name != null && name != "." && name != "..";
in
rec {
  inherit fragment;

  roBind = { src, dst ? src, optional ? false }:
    fragment { mounts = [{ type = "ro-bind"; src = toString src; inherit dst optional; }]; };

  bind = { src, dst ? src, optional ? false }:
    fragment { mounts = [{ type = "bind"; src = toString src; inherit dst optional; }]; };

  tmpfs = dst: fragment { mounts = [{ type = "tmpfs"; inherit dst; optional = false; }]; };

  dir = dst: fragment { mounts = [{ type = "dir"; inherit dst; optional = false; }]; };

  symlink = { target, dst }:
    fragment { mounts = [{ type = "symlink"; src = target; inherit dst; optional = false; }]; };

  setEnv = env: fragment { inherit env; };

  # TLS roots for curl, git, nix and friends. Only what is used is created:
  # one file bound at the standard path, and the variables naming it (the
  # seed made /etc/ssl overlay directories whether or not anything used them).
  sslCertificates = { bundle, dst ? "/etc/ssl/certs/ca-certificates.crt" }:
    fragment {
      mounts = [{ type = "ro-bind"; src = toString bundle; inherit dst; optional = false; }];
      env = { SSL_CERT_FILE = dst; NIX_SSL_CERT_FILE = dst; };
    };

  # A flake registry for `nix` inside (`nix run nixpkgs#hello` resolves
  # through it), at the user registry's place under HOME.
  nixRegistry = { file }:
    roBind { src = file; dst = "/home/cell/.config/nix/registry.json"; };

  # Extra nix.conf settings for `nix` inside. The launcher's forced
  # NIX_CONFIG still applies on top of this file.
  nixConfig = { file }:
    roBind { src = file; dst = "/home/cell/.config/nix/nix.conf"; };

  # A secret by reference: the host file is bound read-only at
  # /run/secrets/NAME when the cell starts; its content never enters the
  # Nix store or the spec. `envVar`, when set, names the file's path inside
  # (e.g. ANTHROPIC_API_KEY_FILE).
  secretFile = { name, hostPath, envVar ? null, optional ? false }:
    if !(validSecretName name) then
      throw "cell secretFile: name '${name}' must be letters, digits, '.', '_' or '-'"
    else
      let dst = "/run/secrets/${name}"; in
      fragment {
        mounts = [{ type = "ro-bind"; src = checkSecretPath name hostPath; inherit dst optional; }];
        env = if envVar == null then { } else { ${envVar} = dst; };
      };

  # Fragments joined in order: mounts appended; an env name set twice with
  # different values is an error, not a silent override.
  merge = fragments:
    builtins.foldl'
      (acc: f:
        let
          f' = fragment f;
          clashes = builtins.filter
            (n: acc.env ? ${n} && acc.env.${n} != f'.env.${n})
            (builtins.attrNames f'.env);
        in
        if clashes != [ ] then
          throw "cell combinators: env ${builtins.head clashes} is set twice with different values"
        else {
          mounts = acc.mounts ++ f'.mounts;
          env = acc.env // f'.env;
        })
      (fragment { })
      fragments;
}
