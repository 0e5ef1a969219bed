# Runs emulator/codegen/gen_api.py into a scratch folder and fails when a file it writes differs
# from the committed one, or when emulator/src/generated/ holds a file it no longer writes: the
# service model and the generated API cannot drift apart.
#
# Usage: cmake -DPYTHON=<python3> -DSOURCE_ROOT=<repo> -DWORK_DIR=<scratch> -P codegen_current.cmake
cmake_minimum_required(VERSION 3.20)
foreach(var PYTHON SOURCE_ROOT WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "codegen_current.cmake needs -D${var}=...")
  endif()
endforeach()

file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
execute_process(COMMAND ${PYTHON} ${SOURCE_ROOT}/emulator/codegen/gen_api.py ${WORK_DIR}
  RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(NOT status EQUAL 0)
  message(FATAL_ERROR "gen_api.py failed (${status}):\n${output}")
endif()

file(GLOB_RECURSE generated RELATIVE ${WORK_DIR} ${WORK_DIR}/*)
if(NOT generated)
  message(FATAL_ERROR "gen_api.py wrote nothing into ${WORK_DIR}")
endif()

find_program(DIFF diff)
set(drifted "")
foreach(file IN LISTS generated)
  if(NOT EXISTS ${SOURCE_ROOT}/${file})
    list(APPEND drifted "${file}: generated but not committed")
    continue()
  endif()
  file(SHA256 ${WORK_DIR}/${file} fresh)
  file(SHA256 ${SOURCE_ROOT}/${file} committed)
  if(NOT fresh STREQUAL committed)
    list(APPEND drifted "${file}: differs")
    if(DIFF)
      execute_process(COMMAND ${DIFF} -u ${SOURCE_ROOT}/${file} ${WORK_DIR}/${file} OUTPUT_VARIABLE changes)
      string(SUBSTRING "${changes}" 0 3000 changes)
      message("--- committed ${file} vs freshly generated:\n${changes}")
    endif()
  endif()
endforeach()

file(GLOB committed_generated RELATIVE ${SOURCE_ROOT} ${SOURCE_ROOT}/emulator/src/generated/*)
foreach(file IN LISTS committed_generated)
  if(NOT file IN_LIST generated)
    list(APPEND drifted "${file}: committed but no longer generated")
  endif()
endforeach()

if(drifted)
  list(JOIN drifted "\n  " listing)
  message(FATAL_ERROR "The committed generated API does not match the vendored model:\n  ${listing}\n"
    "Rerun `python3 emulator/codegen/gen_api.py` from the repository root and commit the result.")
endif()
list(LENGTH generated count)
message(STATUS "${count} generated files match the committed ones")
