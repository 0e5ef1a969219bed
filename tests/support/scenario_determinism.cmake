# Determinism of the scenario layer (issue 4 item 7), in separate processes:
#   - `smemu explore --count N --seed S` twice must print the same bytes (seed, counts, probes and
#     the digest of every scenario's trace); with another seed the digest must change;
#   - `smemu replay --quiet EXAMPLE` twice must print the same bytes (seed, digest, result).
#
# Usage: cmake -DSMEMU=<smemu> -DEXAMPLES_DIR=<scenarios/examples> -DWORK_DIR=<scratch>
#              -P scenario_determinism.cmake
cmake_minimum_required(VERSION 3.20)
foreach(var SMEMU EXAMPLES_DIR WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "scenario_determinism.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

set(seed 20260101)
set(other_seed 7)
set(count 40)
message(STATUS "seeds: ${seed} (run twice) and ${other_seed}; ${count} scenarios each")

# Runs smemu with `args`, its stdout to WORK_DIR/file. Exit code 1 (a failure explore found, or an
# unmet expectation) is still output to compare; anything else is a broken run.
function(run_smemu file)
  execute_process(COMMAND ${SMEMU} ${ARGN} WORKING_DIRECTORY ${WORK_DIR} OUTPUT_FILE ${WORK_DIR}/${file}
    ERROR_VARIABLE errors RESULT_VARIABLE status)
  if(NOT (status EQUAL 0 OR status EQUAL 1))
    file(READ ${WORK_DIR}/${file} output)
    message(FATAL_ERROR "smemu ${ARGN} failed (${status}):\n${output}${errors}")
  endif()
endfunction()

function(first_line file out)
  file(STRINGS ${WORK_DIR}/${file} lines LIMIT_COUNT 1)
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

function(digest_of file out)
  file(STRINGS ${WORK_DIR}/${file} lines REGEX "^digest=")
  if(lines STREQUAL "")
    message(FATAL_ERROR "${WORK_DIR}/${file} has no digest= line")
  endif()
  set(${out} "${lines}" PARENT_SCOPE)
endfunction()

function(require_same a b what)
  execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK_DIR}/${a} ${WORK_DIR}/${b} RESULT_VARIABLE differs)
  if(differs)
    message(FATAL_ERROR "${what} printed different output in two processes; compare ${WORK_DIR}/${a} and ${WORK_DIR}/${b}")
  endif()
endfunction()

# explore: the same seed twice, then another seed.
run_smemu(explore-first.txt explore --count ${count} --seed ${seed})
run_smemu(explore-second.txt explore --count ${count} --seed ${seed})
run_smemu(explore-other.txt explore --count ${count} --seed ${other_seed})
first_line(explore-first.txt line)
if(NOT line STREQUAL "seed=${seed}")
  message(FATAL_ERROR "smemu explore must print its seed first; it printed '${line}'")
endif()
require_same(explore-first.txt explore-second.txt "smemu explore --count ${count} --seed ${seed}")
digest_of(explore-first.txt first_digest)
digest_of(explore-other.txt other_digest)
if(first_digest STREQUAL other_digest)
  message(FATAL_ERROR "seeds ${seed} and ${other_seed} gave the same trace digest (${first_digest})")
endif()

# replay: the first example (by name) twice.
file(GLOB examples ${EXAMPLES_DIR}/*.json)
list(SORT examples)
list(LENGTH examples example_count)
if(example_count EQUAL 0)
  message(FATAL_ERROR "no scenario examples in ${EXAMPLES_DIR}")
endif()
list(GET examples 0 example)
run_smemu(replay-first.txt replay --quiet ${example})
run_smemu(replay-second.txt replay --quiet ${example})
first_line(replay-first.txt line)
if(NOT line MATCHES "^seed=")
  message(FATAL_ERROR "smemu replay must print its seed first; it printed '${line}'")
endif()
require_same(replay-first.txt replay-second.txt "smemu replay --quiet ${example}")
digest_of(replay-first.txt replay_digest)
message(STATUS "explore ${seed}: ${first_digest} twice, ${other_seed}: ${other_digest}; replay ${example}: ${replay_digest} twice")
