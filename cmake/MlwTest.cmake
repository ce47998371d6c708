# mlw_add_test(NAME <name> [SOURCES <c files>] [LIBS <targets>] [COMMAND <cmd...>]
#              [TIMEOUT <s>] [LABELS <labels>])
# Registers a test once: builds it (when SOURCES are given) and adds it to
# ctest. Exit code 77 means "skipped" and must print why.
function(mlw_add_test)
  cmake_parse_arguments(T "" "NAME;TIMEOUT" "SOURCES;LIBS;COMMAND;LABELS" ${ARGN})
  if(NOT T_TIMEOUT)
    set(T_TIMEOUT 120)
  endif()
  if(T_SOURCES)
    add_executable(${T_NAME} ${T_SOURCES})
    target_link_libraries(${T_NAME} PRIVATE ${T_LIBS})
    if(NOT T_COMMAND)
      # The target's name, not its file: ctest then runs it under
      # CMAKE_CROSSCOMPILING_EMULATOR in a cross build (qemu-user).
      set(T_COMMAND ${T_NAME})
    endif()
  endif()
  add_test(NAME ${T_NAME} COMMAND ${T_COMMAND})
  set_tests_properties(${T_NAME} PROPERTIES TIMEOUT ${T_TIMEOUT} SKIP_RETURN_CODE 77)
  if(T_LABELS)
    set_tests_properties(${T_NAME} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
