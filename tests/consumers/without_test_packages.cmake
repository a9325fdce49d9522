# Configures tcpcore with the test and bench packages hidden (as on a machine
# without them), installs it, then builds and runs a find_package consumer
# against the install. Any step failing fails the test with its output.

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
  set(last_output "${out}${err}" PARENT_SCOPE)
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")
set(build "${WORK_DIR}/build")
set(prefix "${WORK_DIR}/prefix")

run("configuring without Catch2, rapidcheck and Google Benchmark"
  "${CMAKE_COMMAND}" -S "${SOURCE_DIR}" -B "${build}" -G "${GENERATOR}"
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_BUILD_TYPE=Release
  -DTCPCORE_BUILD_EXAMPLES=OFF
  -DCMAKE_DISABLE_FIND_PACKAGE_Catch2=ON
  -DCMAKE_DISABLE_FIND_PACKAGE_rapidcheck=ON
  -DCMAKE_DISABLE_FIND_PACKAGE_benchmark=ON)
foreach(expected "tests not built" "benchmarks not built")
  string(FIND "${last_output}" "tcpcore: ${expected}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "configuring did not say 'tcpcore: ${expected}':\n${last_output}")
  endif()
endforeach()

run("installing" "${CMAKE_COMMAND}" --install "${build}" --prefix "${prefix}")
if(NOT EXISTS "${prefix}/include/tcpcore/tcpcore.hpp")
  message(FATAL_ERROR "the install has no include/tcpcore/tcpcore.hpp")
endif()

run("configuring the consumer"
  "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/consumer" -G "${GENERATOR}"
  -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${prefix})
run("building the consumer" "${CMAKE_COMMAND}" --build "${WORK_DIR}/consumer")
run("running the consumer" "${WORK_DIR}/consumer/consumer")
message("${last_output}")
