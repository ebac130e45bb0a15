# Shared by tests/mount, tests/corruption and tests/golden: the fixture library and
# phrfs_add_mount_gtest(NAME SOURCES a.cc ... [LIBS ...] [TIMEOUT s] [LABEL l]), which builds a
# gtest executable, makes it depend on the phrfs binary and registers its tests with LABELS l
# (default mount).
include_guard(GLOBAL)

if(TARGET phrfs)
  set(PHRFS_TEST_BINARY "$<TARGET_FILE:phrfs>")
else()
  # fs/ has no phrfs target yet: the tests still build and will fail (binary missing).
  message(WARNING "tests/mount: no phrfs target; mounted tests will fail")
  set(PHRFS_TEST_BINARY "${CMAKE_BINARY_DIR}/fs/phrfs")
endif()

add_library(phrfs_mount_testlib STATIC ${CMAKE_CURRENT_LIST_DIR}/mount_fixture.cc)
target_compile_definitions(phrfs_mount_testlib PUBLIC PHRFS_BINARY="${PHRFS_TEST_BINARY}")
target_link_libraries(phrfs_mount_testlib PUBLIC GTest::gtest Threads::Threads)
if(TARGET phrfs)
  add_dependencies(phrfs_mount_testlib phrfs)
endif()

function(phrfs_add_mount_gtest name)
  cmake_parse_arguments(ARG "" "TIMEOUT;LABEL" "SOURCES;LIBS" ${ARGN})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 900)
  endif()
  if(NOT ARG_LABEL)
    set(ARG_LABEL mount)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE phrfs_mount_testlib ${ARG_LIBS}
                        GTest::gtest GTest::gtest_main Threads::Threads)
  if(TARGET phrfs)
    add_dependencies(${name} phrfs)
  endif()
  gtest_discover_tests(${name} PROPERTIES LABELS ${ARG_LABEL} TIMEOUT ${ARG_TIMEOUT}
                       DISCOVERY_TIMEOUT 60
                       WORKING_DIRECTORY ${CMAKE_SOURCE_DIR})
endfunction()
