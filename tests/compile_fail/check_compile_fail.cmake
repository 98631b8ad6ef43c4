# Compiles SOURCE (which must hold a constexpr graph with one mistake) and passes only
# when compilation fails with every "// expect: TEXT" line of the source in the
# compiler's output, no "// reject: TEXT" line anywhere in it (a second error after
# the graph's own, say), and the message names the line marked "// error: this line".
# Clang prints the message one quoted character per template argument
# (graph_error<'h', 'e', ...>); it is joined back into text before the check.
foreach(required CXX SOURCE INCLUDE_DIR)
  if(NOT DEFINED ${required})
    message(FATAL_ERROR "check_compile_fail.cmake needs -D${required}=...")
  endif()
endforeach()

execute_process(
  COMMAND ${CXX} -std=c++20 -fsyntax-only -I${INCLUDE_DIR} ${SOURCE}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but its graph has a mistake that must be a compile error")
endif()

set(raw_output "${output}")
if(CXX_ID STREQUAL "Clang")
  string(FIND "${output}" "vkattn::graph_error<'" start)
  if(start EQUAL -1)
    message(FATAL_ERROR "the compile error is not vkattn's graph_error. Compiler output:\n${output}")
  endif()
  string(SUBSTRING "${output}" ${start} -1 spelled)
  string(FIND "${spelled}" "'>' requested here" end)
  math(EXPR end "${end} + 1")
  string(SUBSTRING "${spelled}" 0 ${end} spelled)
  string(LENGTH "vkattn::graph_error<" prefix)
  string(SUBSTRING "${spelled}" ${prefix} -1 spelled)
  # Clang escapes a quote or backslash with a backslash: '\''.
  string(REGEX REPLACE "'\\\\?(.)'(, )?" "\\1" joined "${spelled}")
  message(STATUS "message spelled out by clang: ${joined}")
  set(output "${joined}")
endif()

file(STRINGS ${SOURCE} lines)
get_filename_component(file_name ${SOURCE} NAME)
set(line_number 0)
set(expectations 0)
foreach(line IN LISTS lines)
  math(EXPR line_number "${line_number} + 1")
  if(line MATCHES "// expect: (.*)$")
    math(EXPR expectations "${expectations} + 1")
    string(FIND "${output}" "${CMAKE_MATCH_1}" position)
    if(position EQUAL -1)
      message(FATAL_ERROR "the compile error does not contain \"${CMAKE_MATCH_1}\". Compiler output:\n${output}")
    endif()
  endif()
  if(line MATCHES "// reject: (.*)$")
    string(FIND "${raw_output}" "${CMAKE_MATCH_1}" position)
    if(NOT position EQUAL -1)
      message(FATAL_ERROR "the compiler output contains \"${CMAKE_MATCH_1}\". Compiler output:\n${raw_output}")
    endif()
  endif()
  if(line MATCHES "// error: this line")
    math(EXPR expectations "${expectations} + 1")
    string(FIND "${output}" "${file_name}:${line_number}: " position)
    if(position EQUAL -1)
      message(FATAL_ERROR "the compile error does not name ${file_name}:${line_number}. Compiler output:\n${output}")
    endif()
  endif()
endforeach()
if(expectations EQUAL 0)
  message(FATAL_ERROR "${SOURCE} has no '// expect:' line, so the test could not fail")
endif()
message(STATUS "compile error as expected")
