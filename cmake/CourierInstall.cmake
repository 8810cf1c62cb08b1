include(GNUInstallDirs)
include(CMakePackageConfigHelpers)
get_property(_components GLOBAL PROPERTY COURIER_COMPONENTS)
set(_targets courier)
foreach(c IN LISTS _components)
  list(APPEND _targets courier_${c})
endforeach()
install(TARGETS ${_targets} EXPORT courierTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY include/courier DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT courierTargets NAMESPACE courier:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/courier)
configure_package_config_file(cmake/courierConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/courierConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/courier)
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/courierConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/courierConfig.cmake
              ${CMAKE_CURRENT_BINARY_DIR}/courierConfigVersion.cmake
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/courier)
