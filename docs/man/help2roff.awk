# Turns the `--help` text of cell and cell-verify into man(7) roff, so that
# a man page says exactly what --help says. POSIX awk (Debian's mawk).
#
# Input: help text, with directive lines that gen_man.sh adds:
#   %%ROFF LINE     LINE is roff, copied as it is (.TH, .SH, .SS, ...)
#   %%SYNOPSIS      the next "Usage:" block is the SYNOPSIS: its lines are
#                   printed one per line, the program names in bold
# The help text's shapes, as the usage writers lay them out:
#   Usage: ...                 a usage block, to the next blank line
#     --flag=VALUE   help...   a flag (two columns in) with its help in a
#                              column; lines at that column continue it,
#                              lines deeper still (a table inside the
#                              help) stay as laid out
#     word        help...      an entry of a list (Commands:)
#     - text                   an item of a bulleted list
#     anything else indented   an example: kept as laid out
#   text at column 0           a paragraph, filled
#   `text`                     a command or value: bold
#   a blank line               ends whatever was open

# escape() and literal(): roff.awk.

# Escaped, with `quoted` text in bold.
function inline(text,    out, start, rest) {
  text = escape(text)
  out = ""
  while ((start = index(text, "`")) > 0) {
    rest = substr(text, start + 1)
    if (index(rest, "`") == 0) break
    out = out substr(text, 1, start - 1) "\\fB" substr(rest, 1, index(rest, "`") - 1) "\\fR"
    text = substr(rest, index(rest, "`") + 1)
  }
  text = out text
  gsub(/`/, "\\(ga", text)
  return text
}

# A roff text line: one starting with . or ' would be a request.
function line_out(text) {
  if (text ~ /^[.']/) text = "\\&" text
  print text
}

function indent_of(text) {
  match(text, /^ */)
  return RLENGTH
}

# Closes what is open: a paragraph, an example, a flag's help.
function close_all() {
  if (in_nested) print ".fi"
  if (in_pre) { print ".fi"; print ".RE" }
  if (in_usage) { print ".fi"; synopsis = 0 }
  in_para = 0; in_pre = 0; in_tp = 0; in_nested = 0; in_usage = 0
}

function start_tp(tag, help) {
  close_all()
  print ".TP"
  line_out("\\fB" escape(tag) "\\fR")
  if (help != "") line_out(inline(help))
  in_tp = 1
}

BEGIN { in_para = 0; in_pre = 0; in_tp = 0; in_nested = 0; in_usage = 0; synopsis = 0 }

/^%%ROFF / { close_all(); print substr($0, 8); next }
/^%%SYNOPSIS$/ { synopsis = 1; next }

/^[ \t]*$/ { close_all(); next }

# A usage block: "Usage:" alone or followed by the first form, then the
# other forms and continuation lines, indented.
/^Usage:/ {
  close_all()
  in_usage = 1
  rest = substr($0, 7)
  sub(/^ +/, "", rest)
  if (synopsis) {
    print ".nf"
  } else {
    print ".PP"
    print ".nf"
    line_out("\\fBUsage:\\fR")
  }
  if (rest != "") usage_line(rest)
  next
}

in_usage {
  usage_line($0)
  next
}

function usage_line(text,    word) {
  sub(/^ +/, "", text)
  if (synopsis && text ~ /^[a-z]/) {
    # "cell run [--spec=FILE] ...": the program (and command) in bold.
    word = text
    sub(/ .*/, "", word)
    text = substr(text, length(word) + 1)
    if (text ~ /^ [a-z][a-z-]*( |$)/) {
      match(text, /^ [a-z][a-z-]*/)
      word = word substr(text, 1, RLENGTH)
      text = substr(text, RLENGTH + 1)
    }
    line_out("\\fB" escape(word) "\\fR" escape(text))
  } else {
    line_out((synopsis ? "    " : "  ") literal(text))
  }
}

# A list item: "  - text", its lines going on further in.
/^  - / {
  close_all()
  print ".IP \\(bu 2"
  line_out(inline(substr($0, 5)))
  in_tp = 1
  flag_indent = 2
  help_col = 4
  next
}

# A flag: "  --name=VALUE   help" or "  --name=VALUE" with the help below.
/^  --?[A-Za-z]/ {
  flag_indent = indent_of($0)
  text = substr($0, flag_indent + 1)
  if (match(text, /   */)) {
    tag = substr(text, 1, RSTART - 1)
    help = substr(text, RSTART + RLENGTH)
    help_col = flag_indent + RSTART + RLENGTH - 1
  } else {
    tag = text
    help = ""
    help_col = -1
  }
  start_tp(tag, help)
  next
}

# An entry of a list: "  run         launch the command ...".
/^  [a-z][a-z-]*   *[^ ]/ && !in_pre {
  flag_indent = 2
  text = substr($0, 3)
  match(text, /   */)
  help_col = 2 + RSTART + RLENGTH - 1
  start_tp(substr(text, 1, RSTART - 1), substr(text, RSTART + RLENGTH))
  next
}

# A flag's help goes on; deeper lines are a table inside it.
in_tp && indent_of($0) > flag_indent {
  if (help_col < 0) help_col = indent_of($0)
  if (indent_of($0) > help_col) {
    if (!in_nested) { print ".nf"; in_nested = 1 }
    line_out(literal(substr($0, help_col + 1)))
  } else {
    if (in_nested) { print ".fi"; in_nested = 0 }
    text = $0
    sub(/^ +/, "", text)
    line_out(inline(text))
  }
  next
}

# An example, kept as laid out.
/^ / {
  if (!in_pre) {
    close_all()
    print ".PP"
    print ".RS 2"
    print ".nf"
    in_pre = 1
  }
  line_out(literal(substr($0, 3)))
  next
}

# A paragraph.
{
  if (!in_para) {
    close_all()
    print ".PP"
    in_para = 1
  }
  line_out(inline($0))
}

END { close_all() }
