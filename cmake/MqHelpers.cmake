# Shared compile settings for every mqstore target.
set(MQ_WARNINGS -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wno-missing-field-initializers)
if(MQ_WERROR)
  list(APPEND MQ_WARNINGS -Werror)
endif()

if(MQ_SANITIZE)
  add_compile_options(-fsanitize=${MQ_SANITIZE} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  add_link_options(-fsanitize=${MQ_SANITIZE})
endif()

function(mq_target_defaults target)
  target_compile_options(${target} PRIVATE ${MQ_WARNINGS})
endfunction()

# The servers and load tools link tcmalloc when MQ_MALLOC says so (ADR 0021): their request
# paths allocate per message, and glibc's allocator cost them 10-13 % of their throughput.
# The library itself leaves the allocator to the program that links it. Sanitizer builds
# keep the system's allocator, which the sanitizers replace.
function(mq_program_allocator target)
  if(TARGET PkgConfig::TCMALLOC)
    # --no-as-needed: the program names no tcmalloc symbol of its own, yet must load it
    # ahead of libc so that its malloc and free are the ones used.
    target_link_libraries(${target} PRIVATE "-Wl,--push-state,--no-as-needed" PkgConfig::TCMALLOC
                          "-Wl,--pop-state")
  endif()
endfunction()

# libFuzzer (fuzz/): every target gets coverage instrumentation so the fuzzers see the
# library's branches; only the fuzzer executables link libFuzzer's main (-fsanitize=fuzzer).
if(MQ_BUILD_FUZZERS)
  if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR
      "MQ_BUILD_FUZZERS=ON needs clang (libFuzzer is part of clang), but the C++ compiler is "
      "${CMAKE_CXX_COMPILER_ID}. Configure a fresh build directory with "
      "CC=clang CXX=clang++ cmake ... -DMQ_BUILD_FUZZERS=ON")
  endif()
  add_compile_options(-fsanitize=fuzzer-no-link)
  add_link_options(-fsanitize=fuzzer-no-link)
endif()
