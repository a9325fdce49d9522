# Builds one `_ko` target that must fail to compile, and checks that the
# compiler's diagnostic names the broken rule.
#   cmake -DBUILD_DIR=<dir> -DTARGET=<target> -DSOURCE=<file> -P expect_failure.cmake
# The expected diagnostic is a regular expression on the source's line
#   // expected diagnostic: <regex>
# Passing requires both: the build fails, and the output matches. A build that
# succeeds, or fails for another reason, is reported as such.

file(STRINGS "${SOURCE}" lines REGEX "^// expected diagnostic: ")
list(LENGTH lines count)
if(NOT count EQUAL 1)
  message(FATAL_ERROR "${SOURCE}: needs exactly one '// expected diagnostic: <regex>' line")
endif()
string(REGEX REPLACE "^// expected diagnostic: " "" regex "${lines}")

execute_process(COMMAND "${CMAKE_COMMAND}" --build "${BUILD_DIR}" --target "${TARGET}"
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE output)

if(result EQUAL 0)
  message(FATAL_ERROR "expected a compilation failure, but ${TARGET} compiled")
endif()
if(NOT output MATCHES "${regex}")
  message(FATAL_ERROR "compilation failed, but the diagnostic does not match '${regex}':\n${output}")
endif()
message(STATUS "${TARGET} failed to compile, as expected, with a diagnostic matching '${regex}'")
