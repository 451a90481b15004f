# Run inside the Pod of examples/kubernetes/cell-agent-pod.yaml by
# kube_play_test.sh (the Pod's command is replaced with this script): what
# the container got from its securityContext, then cells. One line each,
# "NAME rc=N: OUTPUT" (output on one line).
line() {
  name=$1
  shift
  out=$("$@" 2>&1)
  rc=$?
  echo "$name rc=$rc: $(echo "$out" | tr '\n' ' ' | sed 's/ $//')"
}
line uid id -u
line no-new-privs sh -c 'grep "^NoNewPrivs:" /proc/self/status | cut -f2'
line cap-eff sh -c 'grep "^CapEff:" /proc/self/status | cut -f2'
line cap-bnd sh -c 'grep "^CapBnd:" /proc/self/status | cut -f2'
line seccomp-mode sh -c 'grep "^Seccomp:" /proc/self/status | cut -f2'
line root-write touch /root-write-check
line tmp-write sh -c 'touch /tmp/write-check && echo writable'
line work-write sh -c 'touch /work/write-check && echo writable'
line spec-readable sh -c 'test -r /etc/cell/agent.json && test -r /etc/cell/agent-filter.txt && echo readable'
line spec-write sh -c 'echo x >>/etc/cell/agent.json'
line proc-masked sh -c 'grep -c " /proc/[a-z]" /proc/self/mountinfo'
line documented-cell cell run --worktree=/work --no-nix --network=none --preset=host -- /bin/sh -c 'echo hi'
line spec-cell cell run --spec=/etc/cell/agent.json -- /bin/sh -c 'echo hi'
