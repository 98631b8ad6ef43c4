# Installing vkattn: the libraries (vkattn::vkattn: DSL, compiler, reference, I/O;
# vkattn::runtime: the Vulkan runtime with its kernels embedded), the headers, the
# `vkattn` command, a CMake package (find_package(vkattn CONFIG)) and a pkg-config file;
# `cpack -G DEB` packages the same for Debian.
include(CMakePackageConfigHelpers)

install(TARGETS vkattn_core vkattn_runtime EXPORT vkattnTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/vkattn DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT vkattnTargets NAMESPACE vkattn:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkattn)
configure_package_config_file(cmake/vkattnConfig.cmake.in ${CMAKE_CURRENT_BINARY_DIR}/vkattnConfig.cmake
                              INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkattn)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/vkattnConfigVersion.cmake
                                 COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/vkattnConfig.cmake ${CMAKE_CURRENT_BINARY_DIR}/vkattnConfigVersion.cmake
              cmake/vkattn_precompile.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/vkattn)
# Relocatable: the prefix is found from where the .pc file lies (pkg-config's pcfiledir).
file(RELATIVE_PATH VKATTN_PC_TO_PREFIX ${CMAKE_INSTALL_FULL_LIBDIR}/pkgconfig ${CMAKE_INSTALL_PREFIX})
configure_file(cmake/vkattn.pc.in ${CMAKE_CURRENT_BINARY_DIR}/vkattn.pc @ONLY)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/vkattn.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

set(CPACK_PACKAGE_NAME vkattn)
set(CPACK_PACKAGE_VENDOR "vkattn")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "Attention-graph compiler with a Vulkan backend (library, headers and the vkattn command)")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "vkattn developers <vkattn@localhost>")
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libvulkan1, nlohmann-json3-dev, libvulkan-dev")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "mesa-vulkan-drivers")
set(CPACK_DEBIAN_PACKAGE_SECTION "devel")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
include(CPack)
