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
