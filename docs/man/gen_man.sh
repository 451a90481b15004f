#!/usr/bin/env bash
# Writes a man page on stdout from what the built programs print, so that it
# cannot drift from them (docs/man/BUILD.bazel runs it at build time):
#   gen_man.sh AWK_DIR cell CELL                 cell(1): `cell help`, each
#                                                command's --help and the
#                                                topics `cell help` names
#   gen_man.sh AWK_DIR cell-verify VERIFY CELL   cell-verify(1): its --help
#   gen_man.sh AWK_DIR cell-spec SPEC_MD CELL    cell-spec(5): docs/spec.md
# AWK_DIR holds roff.awk, help2roff.awk and md2roff.awk. No date in the pages: the
# same programs give the same bytes.
set -euo pipefail
awk_dir=$1
page=$2
shift 2

# "cell 0.1.0", the first line of --version.
version_of() {
  "$1" --version | head -n 1
}

# Roff for a NAME line's description: escaped.
roff_text() {
  sed -e 's/\\/\\e/g' -e 's/-/\\-/g' <<<"$1"
}

# The lines of $1 from its "Usage:" line to the blank line that ends the
# block, and the lines after that blank line.
usage_block() {
  sed -n '/^Usage:/,$p' <<<"$1" | sed '/^$/q' | sed '/^$/d'
}
after_usage() {
  sed -n '/^Usage:/,$p' <<<"$1" | sed '1,/^$/d'
}

case $page in
  cell)
    cell=$1
    help=$("$cell" help)
    # First line: "cell - run a command in a sandbox cell".
    summary=${help%%$'\n'*}
    summary=${summary#* - }
    commands=$(usage_block "$help" |
      sed -n 's/^ *\(Usage: *\)\{0,1\}cell \([a-z][a-z-]*\).*/\2/p' |
      grep -vx help | awk '!seen[$0]++')
    {
      echo "%%ROFF .TH CELL 1 \"\" \"$(version_of "$cell")\" \"User Commands\""
      echo "%%ROFF .SH NAME"
      echo "%%ROFF cell \\- $(roff_text "$summary")"
      echo "%%ROFF .SH SYNOPSIS"
      echo "%%SYNOPSIS"
      usage_block "$help"
      echo
      echo "%%ROFF .SH DESCRIPTION"
      after_usage "$help"
      echo
      echo "%%ROFF .SH COMMANDS"
      for command in $commands; do
        echo "%%ROFF .SS \"cell $command\""
        "$cell" "$command" --help
        echo
      done
      # Topics `cell help` points to that are not commands (`cell help
      # presets`).
      for topic in $(grep -o 'cell help [a-z][a-z-]*' <<<"$help" |
          awk '{print $3}' | awk '!seen[$0]++'); do
        if grep -qx -- "$topic" <<<"$commands"; then continue; fi
        echo "%%ROFF .SH \"$(tr '[:lower:]' '[:upper:]' <<<"$topic" |
          sed 's/-/ /g')\""
        echo "%%ROFF (\\fBcell help $topic\\fR)"
        echo
        "$cell" help "$topic"
        echo
      done
      echo "%%ROFF .SH SEE ALSO"
      echo "%%ROFF .BR cell\\-verify (1),"
      echo "%%ROFF .BR cell\\-spec (5);"
      echo "%%ROFF docs/spec.md in the source tree."
    } | awk -f "$awk_dir/roff.awk" -f "$awk_dir/help2roff.awk"
    ;;
  cell-verify)
    verify=$1
    help=$("$verify" --help)
    description=$(after_usage "$help")
    # The description's first clause: "Checks a cell before you deploy an
    # agent into it".
    summary=$(sed -n '1,/^$/p' <<<"$description" | tr '\n' ' ')
    summary=${summary%%:*}
    summary=${summary%%.*}
    summary="$(tr '[:upper:]' '[:lower:]' <<<"${summary:0:1}")${summary:1}"
    {
      echo "%%ROFF .TH CELL\\-VERIFY 1 \"\" \"$(version_of "$verify")\"" \
        "\"User Commands\""
      echo "%%ROFF .SH NAME"
      echo "%%ROFF cell\\-verify \\- $(roff_text "$summary")"
      echo "%%ROFF .SH SYNOPSIS"
      echo "%%SYNOPSIS"
      usage_block "$help"
      echo
      echo "%%ROFF .SH DESCRIPTION"
      printf '%s\n' "$description"
      echo
      echo "%%ROFF .SH SEE ALSO"
      echo "%%ROFF .BR cell (1),"
      echo "%%ROFF .BR cell\\-spec (5);"
      echo "%%ROFF docs/spec.md in the source tree."
    } | awk -f "$awk_dir/roff.awk" -f "$awk_dir/help2roff.awk"
    ;;
  cell-spec)
    spec_md=$1
    cell=$2
    awk -v version="$(version_of "$cell")" -f "$awk_dir/roff.awk" -f "$awk_dir/md2roff.awk" \
      "$spec_md"
    ;;
  *)
    echo "gen_man.sh: unknown page '$page' (cell, cell-verify, cell-spec)" >&2
    exit 2
    ;;
esac
