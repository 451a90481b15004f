// Status propagation macros. Debian's abseil (20220623) ships none, so they
// are written once here and used by every library before the clone.
#ifndef CELL_BASE_STATUS_MACROS_H_
#define CELL_BASE_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace cell::internal {

inline const absl::Status& AsStatus(const absl::Status& status) {
  return status;
}

template <typename T>
const absl::Status& AsStatus(const absl::StatusOr<T>& status_or) {
  return status_or.status();
}

}  // namespace cell::internal

#define CELL_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define CELL_STATUS_MACROS_CONCAT_(x, y) CELL_STATUS_MACROS_CONCAT_INNER_(x, y)

// Evaluates `expr` (an absl::Status or absl::StatusOr<T>) once and returns
// its status from the enclosing function when it is not OK.
#define CELL_RETURN_IF_ERROR(expr)                   \
  do {                                               \
    const ::absl::Status cell_status_macro_status_ = \
        ::cell::internal::AsStatus(expr);            \
    if (!cell_status_macro_status_.ok()) {           \
      return cell_status_macro_status_;              \
    }                                                \
  } while (false)

// `CELL_ASSIGN_OR_RETURN(auto value, MakeValue());` evaluates the StatusOr
// once, returns its status when it is not OK, and otherwise moves the value
// into `lhs` (a declaration or an existing lvalue).
#define CELL_ASSIGN_OR_RETURN(lhs, rexpr) \
  CELL_ASSIGN_OR_RETURN_IMPL_(            \
      CELL_STATUS_MACROS_CONCAT_(cell_status_macro_or_, __LINE__), lhs, rexpr)

#define CELL_ASSIGN_OR_RETURN_IMPL_(status_or, lhs, rexpr) \
  auto status_or = (rexpr);                                \
  if (!status_or.ok()) {                                   \
    return std::move(status_or).status();                  \
  }                                                        \
  lhs = std::move(status_or).value()

#endif  // CELL_BASE_STATUS_MACROS_H_
