# Warnings for courier's own targets only (linked PRIVATE, never passed on to consumers).
add_library(courier_warnings INTERFACE)
target_compile_options(courier_warnings INTERFACE -Wall -Wextra -Wno-missing-field-initializers)
if(COURIER_WERROR)
  target_compile_options(courier_warnings INTERFACE $<BUILD_INTERFACE:-Werror>)
endif()
