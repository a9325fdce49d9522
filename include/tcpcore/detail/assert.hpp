#pragma once
// Internal invariant checks. Active unless NDEBUG, like assert(), and usable
// in constexpr functions: a failed check in a constant expression is a
// compile error, at run time an abort with the condition's text.

#include <cassert>

#define TCPCORE_ASSERT(cond) assert(cond)
