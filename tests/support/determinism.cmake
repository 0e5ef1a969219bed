# Runs smemu_determinism_probe in separate processes: twice with one seed, which must print the
# same bytes, and once with another seed, which must change the ARN suffixes, the VersionIds
# drawn for omitted ClientRequestTokens and the generated passwords.
#
# Usage: cmake -DPROBE=<smemu_determinism_probe> -DWORK_DIR=<scratch> -P determinism.cmake
cmake_minimum_required(VERSION 3.20)
foreach(var PROBE WORK_DIR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "determinism.cmake needs -D${var}=...")
  endif()
endforeach()
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})

function(run_probe seed file)
  execute_process(COMMAND ${PROBE} --seed ${seed} OUTPUT_FILE ${WORK_DIR}/${file} ERROR_VARIABLE errors
    RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    file(READ ${WORK_DIR}/${file} output)
    message(FATAL_ERROR "smemu_determinism_probe --seed ${seed} failed (${status}):\n${output}${errors}")
  endif()
endfunction()

run_probe(20260101 first.txt)
run_probe(20260101 second.txt)
run_probe(7 other_seed.txt)

execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${WORK_DIR}/first.txt ${WORK_DIR}/second.txt
  RESULT_VARIABLE same_seed_differs)
if(same_seed_differs)
  message(FATAL_ERROR "Two runs with seed 20260101 printed different output; compare "
    "${WORK_DIR}/first.txt and ${WORK_DIR}/second.txt")
endif()

# The steps whose output the seed decides, each of which must change with the seed.
file(STRINGS ${WORK_DIR}/first.txt first)
file(STRINGS ${WORK_DIR}/other_seed.txt other)
foreach(step create-secret create-binary-secret random-password random-password-short put-secret-value-typed
        update-secret-typed)
  set(a "")
  set(b "")
  foreach(line IN LISTS first)
    if(line MATCHES "^${step} ")
      set(a "${line}")
    endif()
  endforeach()
  foreach(line IN LISTS other)
    if(line MATCHES "^${step} ")
      set(b "${line}")
    endif()
  endforeach()
  if(a STREQUAL "")
    message(FATAL_ERROR "the probe printed no line for step ${step}")
  endif()
  if(a STREQUAL b)
    message(FATAL_ERROR "Seeds 20260101 and 7 gave the same ${step}:\n  ${a}")
  endif()
endforeach()
message(STATUS "same seed, same bytes; another seed, other suffixes, tokens and passwords")
