# Warnings for courier's own targets only (linked PRIVATE, never passed on to consumers).
add_library(courier_warnings INTERFACE)
# -Wno-missing-field-initializers: designated initializers leave defaulted fields out on purpose.
# -Wno-maybe-uninitialized, -Wno-restrict, -Wno-stringop-overflow: g++ 12 at -O2/-O3 reports
# false positives inside libstdc++ (std::regex, std::optional, `"x" + std::string`: GCC bug
# 105329) that no code of ours can silence.
target_compile_options(courier_warnings INTERFACE -Wall -Wextra -Wno-missing-field-initializers
  "$<$<CXX_COMPILER_ID:GNU>:-Wno-maybe-uninitialized;-Wno-restrict;-Wno-stringop-overflow>")
if(COURIER_WERROR)
  target_compile_options(courier_warnings INTERFACE $<BUILD_INTERFACE:-Werror>)
endif()
