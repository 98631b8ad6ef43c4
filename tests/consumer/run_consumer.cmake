# Installs the build into PREFIX, then builds and runs tests/consumer against it through
# find_package(vkattn CONFIG) and through pkg-config; then builds the Debian package with
# cpack and builds and runs the consumer against its unpacked contents.
# -DBUILD_DIR= -DPREFIX= -DSOURCE_DIR= -DWORK_DIR= -DCXX= [-DEXTRA_FLAGS=] (the sanitizer
# flags of a sanitizer build, which its installed static libraries need at link time)
function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE code OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "failed (${code}): ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
# Builds main.cpp with the flags pkg-config gives for vkattn from PC_DIR into DIR, and runs it.
function(build_with_pkg_config pc_dir dir)
  set(ENV{PKG_CONFIG_PATH} ${pc_dir})
  execute_process(COMMAND pkg-config --cflags --libs vkattn RESULT_VARIABLE code OUTPUT_VARIABLE flags
                  OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT code EQUAL 0)
    message(FATAL_ERROR "pkg-config finds no usable vkattn.pc in ${pc_dir}")
  endif()
  separate_arguments(flags UNIX_COMMAND "${flags}")
  file(MAKE_DIRECTORY ${dir})
  run(${CXX} -O1 ${EXTRA_FLAGS} ${SOURCE_DIR}/main.cpp -o ${dir}/consumer ${flags})
  run(${dir}/consumer)
endfunction()

file(REMOVE_RECURSE ${PREFIX} ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${PREFIX})
string(REPLACE ";" " " extra_flags "${EXTRA_FLAGS}")
run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK_DIR}/cmake -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_BUILD_TYPE=Release
    -DCMAKE_CXX_COMPILER=${CXX} "-DCMAKE_CXX_FLAGS=${extra_flags}" "-DCMAKE_EXE_LINKER_FLAGS=${extra_flags}")
run(${CMAKE_COMMAND} --build ${WORK_DIR}/cmake)
run(${WORK_DIR}/cmake/consumer)
run(${WORK_DIR}/cmake/consumer_precompiled)
# pkg-config, with the .pc file found in the prefix (it is relocatable).
file(GLOB_RECURSE pc_files ${PREFIX}/*/vkattn.pc)
list(GET pc_files 0 pc_file)
get_filename_component(pc_dir ${pc_file} DIRECTORY)
build_with_pkg_config(${pc_dir} ${WORK_DIR}/pkg-config)
# The Debian package: built by cpack, unpacked (as dpkg would install it, under /usr),
# and the consumer built with pkg-config against it and run.
run(cpack -G DEB --config ${BUILD_DIR}/CPackConfig.cmake -B ${WORK_DIR}/package)
file(GLOB debs ${WORK_DIR}/package/vkattn_*.deb)
list(GET debs 0 deb)
run(dpkg-deb -x ${deb} ${WORK_DIR}/deb-root)
build_with_pkg_config(${WORK_DIR}/deb-root/usr/lib/pkgconfig ${WORK_DIR}/deb)
run(${WORK_DIR}/deb-root/usr/bin/vkattn compile mha --seq 8 --model 16 --heads 2 --target nvidia)
