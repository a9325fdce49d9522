# Runs one libFuzzer target for SECONDS from a fresh copy of its seed corpus
# (SEEDS) in WORK, and passes only when libFuzzer exits 0: no crash, no
# sanitizer report, no leak, no input slower than the per-input timeout.
# Prints what CI logs need (executions, coverage, corpus growth) and keeps
# the full log in WORK/fuzz.log; on failure its tail is printed too.
#
#   cmake -DFUZZER=... -DSEEDS=... -DWORK=... -DSECONDS=60 -DMAX_LEN=4096 -P run_fuzzer.cmake

foreach(var FUZZER SEEDS WORK SECONDS MAX_LEN)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "run_fuzzer.cmake: ${var} is not set")
  endif()
endforeach()

file(REMOVE_RECURSE "${WORK}")
file(MAKE_DIRECTORY "${WORK}/corpus" "${WORK}/artifacts")
file(GLOB seeds LIST_DIRECTORIES false "${SEEDS}/*")
list(LENGTH seeds seed_count)
if(seed_count EQUAL 0)
  message(FATAL_ERROR "no seeds in ${SEEDS}")
endif()
file(COPY ${seeds} DESTINATION "${WORK}/corpus")

get_filename_component(name "${FUZZER}" NAME)
execute_process(
  COMMAND "${FUZZER}" -max_total_time=${SECONDS} -print_final_stats=1 -max_len=${MAX_LEN}
          -timeout=25 -rss_limit_mb=2048 -artifact_prefix=${WORK}/artifacts/ "${WORK}/corpus"
  RESULT_VARIABLE rc
  OUTPUT_VARIABLE log
  ERROR_VARIABLE log)
file(WRITE "${WORK}/fuzz.log" "${log}")

# The numbers: executions from the final stats, coverage (edges) and
# features from the last status line.
string(REGEX MATCH "stat::number_of_executed_units: *([0-9]+)" _ "${log}")
set(execs "${CMAKE_MATCH_1}")
string(REGEX MATCH "stat::average_exec_per_sec: *([0-9]+)" _ "${log}")
set(rate "${CMAKE_MATCH_1}")
string(REGEX MATCHALL "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9]+[bKM]" status "${log}")
list(LENGTH status status_count)
set(last_status "")
if(status_count GREATER 0)
  list(GET status -1 last_status)
endif()
string(REGEX MATCH "INITED cov: [0-9]+ ft: [0-9]+" inited "${log}")

message("${name}: ${seed_count} seeds; ${inited}")
message("${name}: ${execs} executions in ${SECONDS} s (${rate}/s); final ${last_status}")
message("${name}: corpus and log in ${WORK}")

if(NOT rc EQUAL 0)
  string(LENGTH "${log}" length)
  if(length GREATER 12000)
    math(EXPR from "${length} - 12000")
    string(SUBSTRING "${log}" ${from} -1 log)
  endif()
  file(GLOB artifacts "${WORK}/artifacts/*")
  message("${log}")
  message(FATAL_ERROR "${name} failed (exit status ${rc}); reproducer: ${artifacts}")
endif()
