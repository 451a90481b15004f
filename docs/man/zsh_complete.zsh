# zsh -f zsh_complete.zsh DIR LINE...: types each LINE and a Tab into a real
# interactive zsh (under a pty) whose completion system loads _cell from
# DIR, and prints what the line became: "LINE => RESULT", one a line.
# Exit 2 when zsh cannot be driven.
zmodload zsh/zpty || exit 2
dir=$1
shift

zpty -b z zsh -f -i || exit 2

# Reads the pty until $1 shows (30 s at most: a loaded machine); the text
# read is in $seen.
typeset seen
wait_for() {
  local chunk
  integer tries=0
  seen=
  while (( tries++ < 600 )); do
    if zpty -r -t z chunk 2>/dev/null; then
      seen+=$chunk
      [[ $seen == *$1* ]] && return 0
    else
      sleep 0.05
    fi
  done
  return 1
}

# The markers are written in two pieces, so that the echo of the command
# line that defines them never matches.
zpty -w z "PS1='> '; unsetopt beep; fpath=(${(q)dir} \$fpath);" \
  "autoload -Uz compinit; compinit -u -D;" \
  "zstyle ':completion:*' menu no;" \
  "show() { zle -I; print -r -- \"@@\"\"BEGIN\$BUFFER@@\"\"END\"; };" \
  "zle -N show; bindkey '^T' show; print -r -- READY\"\"OK"
if ! wait_for READYOK; then
  print -r -- "zsh did not start: $seen" >&2
  exit 2
fi

for line in "$@"; do
  zpty -w -n z "$line"$'\t'
  sleep 0.2
  zpty -w -n z $'\x14'
  if ! wait_for '@@END'; then
    print -r -- "$line => (no answer: $seen)"
  else
    result=${seen##*@@BEGIN}
    print -r -- "$line => ${result%%@@END*}"
  fi
  zpty -w -n z $'\x15'
done
zpty -d z
