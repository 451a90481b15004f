// Text from outside (a sandbox's facts, its stderr, a file name in a
// worktree) made safe to print on a person's terminal: control characters
// are shown, never obeyed. A carriage return or an escape sequence in a
// fact could otherwise redraw a FAIL row as PASS, set the window title or
// write to the clipboard (OSC 52).
#ifndef CELL_BASE_PRINTABLE_H_
#define CELL_BASE_PRINTABLE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace cell {

// `text` with every C0 control (tab and newline included), DEL, every C1
// control (U+0080..U+009F) and every byte that is not part of well-formed
// UTF-8 written as \xNN (a C1 control as its two bytes); a backslash stays
// as it is. Other UTF-8 passes unchanged.
std::string Printable(absl::string_view text);

}  // namespace cell

#endif  // CELL_BASE_PRINTABLE_H_
