#pragma once
// The deterministic byte stream is public now (<tcpcore/testing/byte_stream.hpp>);
// the tests keep calling it by its old name.

#include <tcpcore/testing/byte_stream.hpp>

namespace tcpcore::test {
using testing::byte_stream;
}  // namespace tcpcore::test
