# vkattn_precompile_kernels(TARGET GENERATOR source.cpp)
#
# Compiles the generated kernels of an application's schedules to SPIR-V while the
# application builds, so it runs without compiling a shader. GENERATOR is a C++ source
# whose main passes the schedules (compile<fn>() results, thawed) to
# vkattn::write_precompiled_kernels (vkattn/precompiled_kernels.hpp). It is built and
# run at build time; the source it writes is compiled into TARGET, which registers the
# SPIR-V when it starts. Kernels the schedules do not hold still compile at run time.
function(vkattn_precompile_kernels target)
  cmake_parse_arguments(ARG "" "GENERATOR" "" ${ARGN})
  if(NOT ARG_GENERATOR)
    message(FATAL_ERROR "vkattn_precompile_kernels(${target}): give GENERATOR source.cpp, whose main calls "
                        "vkattn::write_precompiled_kernels")
  endif()
  if(NOT TARGET ${target})
    message(FATAL_ERROR "vkattn_precompile_kernels(${target}): no target named ${target}; call it after add_executable")
  endif()
  set(generator ${target}_vkattn_kernel_generator)
  add_executable(${generator} ${ARG_GENERATOR})
  target_link_libraries(${generator} PRIVATE vkattn::runtime)
  set(source ${CMAKE_CURRENT_BINARY_DIR}/${target}_vkattn_kernels.cpp)
  # The generator's own shader cache stays in the build tree.
  add_custom_command(OUTPUT ${source}
                     COMMAND ${CMAKE_COMMAND} -E env XDG_CACHE_HOME=${CMAKE_CURRENT_BINARY_DIR}/vkattn_kernel_cache
                             $<TARGET_FILE:${generator}> ${source}
                     DEPENDS ${generator}
                     COMMENT "vkattn: compiling the generated kernels of ${target} to SPIR-V"
                     VERBATIM)
  target_sources(${target} PRIVATE ${source})
  target_link_libraries(${target} PRIVATE vkattn::runtime)
endfunction()
