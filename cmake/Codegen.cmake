# Code generation for courier's own targets (directory scope: a project that adds courier as a
# subdirectory keeps its own flags).
#
# g++'s generic x86-64 tuning zeroes every fixed-size block of 33 bytes to 8 KiB with `rep stosq`,
# whose start-up costs tens of cycles: every value-initialized request, result and message of a
# send or a receive paid it, and the standard queue's one-thread lifecycle ran 16 % faster
# without it (docs/benchmarks.md, "Zeroing without rep stos"). Blocks up to 256 bytes get
# unrolled stores instead, larger ones a call to memset.
include(CheckCXXCompilerFlag)
set(_courier_memset_strategy "-mmemset-strategy=unrolled_loop:256:noalign,libcall:-1:noalign")
check_cxx_compiler_flag("${_courier_memset_strategy}" COURIER_HAS_MEMSET_STRATEGY)
if(COURIER_HAS_MEMSET_STRATEGY)
  add_compile_options("${_courier_memset_strategy}")
endif()
