# Parameter sets that must be refused, each with a piece of the message
# (//nix:nix_test checks that evaluation fails saying it).
let
  spec = import ../spec.nix;
  c = import ../combinators.nix;
in
{
  secret-path-literal = {
    expr = c.secretFile { name = "key"; hostPath = ./cases.nix; };
    message = "copies the secret into the world-readable store";
  };
  secret-in-store = {
    expr = c.secretFile { name = "key"; hostPath = "${builtins.storeDir}/abc-key"; };
    message = "is in the Nix store";
  };
  secret-relative = {
    expr = c.secretFile { name = "key"; hostPath = "secrets/key"; };
    message = "must be absolute";
  };
  secret-bad-name = {
    expr = c.secretFile { name = "../etc"; hostPath = "/run/secrets/x"; };
    message = "must be letters, digits";
  };
  env-set-twice = {
    expr = spec { command = [ "a" ]; extraCombinators = [ (c.setEnv { A = "1"; }) (c.setEnv { A = "2"; }) ]; };
    message = "env A is set twice";
  };
  unknown-network-field = {
    expr = spec { command = [ "a" ]; network = { engin = "builtin"; }; };
    message = "unknown network field 'engin'";
  };
  unknown-fragment-field = {
    expr = spec { command = [ "a" ]; extraCombinators = [ { mounts = [ ]; envs = { }; } ]; };
    message = "unexpected argument 'envs'";
  };
  empty-command = {
    expr = spec { command = [ ]; };
    message = "command must be a non-empty list";
  };
}
