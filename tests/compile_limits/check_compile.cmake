# Compiles SOURCE with -DLAYERS=${LAYERS} and the compiler's default limits on constant
# evaluation (no -fconstexpr-steps, no -fconstexpr-ops-limit), and passes when it
# compiles: its static_asserts hold and constant evaluation stayed within the defaults.
foreach(required CXX SOURCE INCLUDE_DIR LAYERS)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "check_compile.cmake needs -D${required}=...")
  endif()
endforeach()
execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -Wall -Wextra -Werror -I${INCLUDE_DIR} -DLAYERS=${LAYERS} ${SOURCE}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} with LAYERS=${LAYERS} did not compile under ${CXX}'s default limits:\n${output}")
endif()
message(STATUS "${LAYERS} layers compiled under ${CXX}'s default limits")
