# What both converters (help2roff.awk, md2roff.awk) write roff with; given
# first to awk: awk -f roff.awk -f help2roff.awk.

function escape(text) {
  gsub(/\\/, "\\e", text)
  gsub(/-/, "\\-", text)
  return text
}

# Escaped, a backquote as itself (in text kept as laid out).
function literal(text) {
  text = escape(text)
  gsub(/`/, "\\(ga", text)
  return text
}
