# Turns docs/spec.md into the man page cell-spec(5), so that the page says
# exactly what the reference says. POSIX awk (Debian's mawk); the Markdown
# that docs/spec.md uses, no more:
#   # Title                    the page's title (the first one only)
#   ## Section, ### Sub        .SH (upper case), .SS
#   ```...```                  code, kept as laid out
#   | a | b | c |              a table: one tagged paragraph a row, its first
#                              cell the tag, the others "header: cell"
#   - item, 1. item            list items; lines indented under them go on
#   text                       paragraphs, filled
#   `code` **bold** *it*       bold, bold, italic; [text](link) is text
#                              (each on one line, not inside another)
# Variables: version ("cell 0.1.0"), for the page's header.

# escape() and literal(): roff.awk.

# Markdown inline markup to roff: code spans first (their text is taken as
# it is), then links, bold and italics in what is left.
function inline(text,    out, start, rest, end_at) {
  out = ""
  while ((start = index(text, "`")) > 0) {
    rest = substr(text, start + 1)
    # `` x `` spans, as docs/spec.md uses for text holding a backtick.
    if (substr(rest, 1, 1) == "`") {
      rest = substr(rest, 2)
      end_at = index(rest, "``")
      if (end_at == 0) break
      out = out markup(substr(text, 1, start - 1)) "\\fB" \
        escape(trim(substr(rest, 1, end_at - 1))) "\\fR"
      text = substr(rest, end_at + 2)
      continue
    }
    end_at = index(rest, "`")
    if (end_at == 0) break
    out = out markup(substr(text, 1, start - 1)) "\\fB" \
      escape(substr(rest, 1, end_at - 1)) "\\fR"
    text = substr(rest, end_at + 1)
  }
  return out markup(text)
}

function trim(text) {
  sub(/^ +/, "", text)
  sub(/ +$/, "", text)
  return text
}

# Links, **bold** and *italics* in text without code spans.
function markup(text,    out, label, target) {
  # [label](target): the label; an outside address follows it.
  out = ""
  while (match(text, /\[[^]]*\]\([^)]*\)/)) {
    label = substr(text, RSTART + 1)
    label = substr(label, 1, index(label, "]") - 1)
    target = substr(text, RSTART, RLENGTH)
    target = substr(target, index(target, "](") + 2)
    target = substr(target, 1, length(target) - 1)
    out = out substr(text, 1, RSTART - 1) label
    if (target ~ /^https?:/) out = out " <" target ">"
    text = substr(text, RSTART + RLENGTH)
  }
  text = escape(out text)
  gsub(/`/, "\\(ga", text)
  while (match(text, /\*\*[^*]+\*\*/)) {
    text = substr(text, 1, RSTART - 1) "\\fB" \
      substr(text, RSTART + 2, RLENGTH - 4) "\\fR" \
      substr(text, RSTART + RLENGTH)
  }
  while (match(text, /\*[^* ][^*]*\*/)) {
    text = substr(text, 1, RSTART - 1) "\\fI" \
      substr(text, RSTART + 1, RLENGTH - 2) "\\fR" \
      substr(text, RSTART + RLENGTH)
  }
  return text
}

function line_out(text) {
  if (text ~ /^[.']/) text = "\\&" text
  print text
}

function close_all() {
  if (in_code) { print ".fi"; print ".RE" }
  in_para = 0
  in_item = 0
  in_code = 0
}

# The cells of a table row, in cell[1..n]; returns n. "\|" is a literal |.
function split_row(row, cell,    n, i, c, text) {
  sub(/^ *\|/, "", row)
  sub(/\| *$/, "", row)
  n = 1
  text = ""
  for (i = 1; i <= length(row); i++) {
    c = substr(row, i, 1)
    if (c == "\\" && substr(row, i + 1, 1) == "|") {
      text = text "|"
      i++
    } else if (c == "|") {
      cell[n++] = trim(text)
      text = ""
    } else {
      text = text c
    }
  }
  cell[n] = trim(text)
  return n
}

function table_row(row,    cell, n, i, details) {
  n = split_row(row, cell)
  rows++
  if (rows == 1) {
    columns = n
    for (i = 1; i <= n; i++) header[i] = cell[i]
    return
  }
  if (rows == 2) return  # |---|---|
  print ".TP"
  line_out(inline(cell[1]))
  details = ""
  for (i = 2; i < n; i++) {
    if (cell[i] == "") continue
    details = details (details == "" ? "" : "; ") \
      "\\fI" inline(header[i]) ":\\fR " inline(cell[i])
  }
  if (details != "") {
    line_out(details)
    if (n > 1) print ".br"
  }
  if (n > 1) line_out(inline(cell[n]))
}

BEGIN {
  title_seen = 0; in_code = 0; in_para = 0; in_item = 0; in_table = 0
  print ".TH CELL\\-SPEC 5 \"\" \"" version "\" \"File Formats\""
  print ".SH NAME"
  print "cell\\-spec \\- the cell spec file (JSON), the cell command line, and what cell\\-verify checks"
}

# Code blocks.
/^```/ {
  if (in_code) {
    close_all()
  } else {
    close_all()
    print ".PP"
    print ".RS 4"
    print ".nf"
    in_code = 1
  }
  next
}
in_code && indented_code {
  if ($0 ~ /^    /) { line_out(literal(substr($0, 5))); next }
  close_all()
  indented_code = 0
}
in_code { line_out(literal($0)); next }

# A table ends at the first line that is not a row.
in_table && !/^ *\|/ { in_table = 0 }

/^ *\|/ {
  if (!in_table) {
    close_all()
    in_table = 1
    rows = 0
  }
  table_row($0)
  next
}

/^# / {
  if (!title_seen) { title_seen = 1; next }
}
/^#+ / {
  close_all()
  level = index($0, " ") - 1
  heading = substr($0, level + 2)
  gsub(/`/, "", heading)
  if (level <= 2) {
    print ".SH \"" escape(toupper(heading)) "\""
  } else {
    print ".SS \"" escape(heading) "\""
  }
  next
}

/^[ \t]*$/ { close_all(); next }

# Four spaces in, outside a list: code.
/^    / && !in_item {
  close_all()
  print ".PP"
  print ".RS 4"
  print ".nf"
  in_code = 1
  line_out(literal(substr($0, 5)))
  # Indented code ends at the first line that is not.
  indented_code = 1
  next
}

/^- / {
  close_all()
  print ".IP \\(bu 2"
  line_out(inline(substr($0, 3)))
  in_item = 1
  next
}

/^[0-9]+\. / {
  close_all()
  print ".IP " substr($0, 1, index($0, " ") - 1) " 4"
  line_out(inline(substr($0, index($0, " ") + 1)))
  in_item = 1
  next
}

{
  text = $0
  sub(/^ +/, "", text)
  if (!in_para && !in_item) {
    print ".PP"
    in_para = 1
  }
  line_out(inline(text))
}

END { close_all() }
