# Runs `${SMEMU} replay --quiet ${FILE}` and checks its exit code (EXPECT_CODE) and that its
# stderr matches EXPECT_STDERR.
execute_process(COMMAND ${SMEMU} replay --quiet ${FILE}
  RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT code EQUAL EXPECT_CODE)
  message(FATAL_ERROR "smemu replay exited ${code}, expected ${EXPECT_CODE}\nstdout:\n${out}\nstderr:\n${err}")
endif()
if(NOT err MATCHES "${EXPECT_STDERR}")
  message(FATAL_ERROR "stderr does not match '${EXPECT_STDERR}':\n${err}")
endif()
message(STATUS "exit ${code}: ${err}")
