# Runs inside the contract cell: each combinator must have done its part.
set -eu
test "$CONTRACT" = yes
test "$(cat "$TOKEN_FILE")" = "s3cret"
test "$TOKEN_FILE" = /run/secrets/token
test -s "$SSL_CERT_FILE" && test "$NIX_SSL_CERT_FILE" = "$SSL_CERT_FILE"
grep -q '"version": 2' /home/cell/.config/nix/registry.json
# NIX_REMOTE points at the configured daemon socket, bound at /run/nix.
test "$NIX_REMOTE" = unix:///run/nix/socket && test -S /run/nix/socket
nix store ping --store "$NIX_REMOTE"
# The secret is read-only, and the worktree is where we are.
if echo x > /run/secrets/token 2>/dev/null; then exit 9; fi
test "$(pwd)" = /home/cell/worktree
echo contract-ok
