# courier_component(NAME DEPENDS a b ... SERVICES s ...): a static library courier_NAME from
# src/NAME/*.cc, exported as part of courier::courier. Each service s is registered in a file
# that defines COURIER_SERVICE_ANCHOR(s); every program linking the library links that file, so
# a service reached only by name (courier::Invoke) is there.
set_property(GLOBAL PROPERTY COURIER_COMPONENTS "")
function(courier_component name)
  cmake_parse_arguments(ARG "" "" "DEPENDS;LIBS;SERVICES" ${ARGN})
  file(GLOB _sources CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/*.cc)
  add_library(courier_${name} STATIC ${_sources})
  add_library(courier::${name} ALIAS courier_${name})
  set_target_properties(courier_${name} PROPERTIES EXPORT_NAME ${name} POSITION_INDEPENDENT_CODE ON)
  target_include_directories(courier_${name} PUBLIC
    $<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include> $<INSTALL_INTERFACE:include>
    PRIVATE ${PROJECT_SOURCE_DIR}/src)
  target_compile_features(courier_${name} PUBLIC cxx_std_20)
  foreach(dep IN LISTS ARG_DEPENDS)
    target_link_libraries(courier_${name} PUBLIC courier_${dep})
  endforeach()
  target_link_libraries(courier_${name} PUBLIC ${ARG_LIBS} PRIVATE $<BUILD_INTERFACE:courier_warnings>)
  foreach(service IN LISTS ARG_SERVICES)
    target_link_options(courier_${name} INTERFACE "LINKER:--undefined=courier_${service}_service_anchor")
  endforeach()
  set_property(GLOBAL APPEND PROPERTY COURIER_COMPONENTS ${name})
endfunction()

# courier_test_dir(NAME): one Catch2 binary NAME_tests from tests/NAME/*_test.cpp, linked to
# courier_NAME (and whatever else is given).
function(courier_test_dir name)
  cmake_parse_arguments(ARG "" "" "LIBS" ${ARGN})
  file(GLOB _tests CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/${name}/*_test.cpp)
  if(NOT _tests)
    return()
  endif()
  add_executable(${name}_tests ${_tests})
  target_link_libraries(${name}_tests PRIVATE courier_test_main courier_${name} ${ARG_LIBS}
                        courier_warnings)
  target_include_directories(${name}_tests PRIVATE ${PROJECT_SOURCE_DIR}/tests ${PROJECT_SOURCE_DIR}/src)
  target_compile_definitions(${name}_tests PRIVATE
    COURIER_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests")
  catch_discover_tests(${name}_tests TEST_PREFIX "${name}:" PROPERTIES TIMEOUT 600)
endfunction()
