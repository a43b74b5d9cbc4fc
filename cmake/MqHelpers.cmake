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
