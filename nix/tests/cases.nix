# Parameter sets for ../spec.nix, each with its exact expected spec in
# expected/NAME.json (//nix:nix_test compares them).
let
  spec = import ../spec.nix;
  c = import ../combinators.nix;
in
{
  # Only the required parameter: every seed default.
  minimal = spec { command = [ "claude" ]; };

  # Every seed parameter set.
  seed-parameters = spec {
    command = [ "/nix/store/0000000000000000000000000000000-agent/bin/agent" "--yes" ];
    worktreePath = "/home/alice/project";
    tinyproxyFilter = "/etc/cell/agent-filter.txt";
    logDir = "/var/log/cell";
    nixDaemonSocket = "/run/nix-alt/daemon-socket";
    extraCombinators = [
      (c.roBind { src = "/etc/gitconfig"; dst = "/home/cell/.gitconfig"; })
      (c.setEnv { EDITOR = "true"; })
    ];
  };

  # The optional combinators that fix the seed's flaws.
  combinators = spec {
    command = [ "bash" ];
    extraCombinators = [
      (c.sslCertificates { bundle = "/etc/ssl/certs/ca-certificates.crt"; })
      (c.nixRegistry { file = "/etc/nix/registry.json"; })
      (c.nixConfig { file = "/etc/nix/extra.conf"; })
      (c.secretFile { name = "anthropic"; hostPath = "/run/secrets/anthropic"; envVar = "ANTHROPIC_API_KEY_FILE"; })
      (c.secretFile { name = "gh"; hostPath = "/home/alice/.config/gh/token"; optional = true; })
      (c.tmpfs "/var/tmp")
      (c.dir "/opt/empty")
      (c.symlink { target = "/home/cell/worktree"; dst = "/work"; })
      (c.bind { src = "/srv/cache"; })
    ];
  };

  # Hardening and network settings pass through, partially given.
  hardened = spec {
    command = [ "agent" ];
    nix = false;
    path = [ "/usr/bin" "/bin" ];
    network = { mode = "none"; };
    isolation = { pidNamespace = true; capabilities = "none"; seccomp = true; readOnlyRoot = true; };
    limits = { rlimits = { nofile = 1024; }; pidsMax = 256; };
  };
}
