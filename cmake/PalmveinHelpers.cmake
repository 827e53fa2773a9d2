# SPDX-License-Identifier: Apache-2.0
# Small helpers so that each module's CMakeLists stays a few lines long.

# Warnings every palmvein target is built with.
function(palmvein_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra)
  if(PALMVEIN_WERROR)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
  if(PALMVEIN_SANITIZE)
    target_compile_options(${target} PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=address,undefined)
  endif()
  if(PALMVEIN_TSAN)
    target_compile_options(${target} PRIVATE -fsanitize=thread -fno-omit-frame-pointer)
    target_link_options(${target} PRIVATE -fsanitize=thread)
  endif()
endfunction()

# palmvein_test(NAME SOURCES... [LIBS ...] [LABELS ...]): one GoogleTest binary registered with ctest.
# Tests exit 77 to report "skipped" (missing data or missing emulation support).
function(palmvein_test name)
  cmake_parse_arguments(T "" "" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${name} ${T_SOURCES} ${T_UNPARSED_ARGUMENTS})
  target_link_libraries(${name} PRIVATE GTest::gtest GTest::gtest_main ${T_LIBS})
  palmvein_warnings(${name})
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES SKIP_RETURN_CODE 77 TIMEOUT 600)
  if(T_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${T_LABELS}")
  endif()
endfunction()
