# Pristine lwIP at configure time: Debian's lwip 2.1.3+dfsg1 orig tarball,
# sha256-pinned, fetched with a private apt configuration into the build tree
# (lwip-port/fetch-lwip.sh), or the tree named by MLW_LWIP_SOURCE_DIR.
# Sets LWIP_DIR.
if(MLW_LWIP_SOURCE_DIR)
  if(NOT EXISTS ${MLW_LWIP_SOURCE_DIR}/src/core/tcp.c OR NOT EXISTS ${MLW_LWIP_SOURCE_DIR}/src/include/lwip/init.h)
    message(FATAL_ERROR "MLW_LWIP_SOURCE_DIR=${MLW_LWIP_SOURCE_DIR} is not an lwIP source tree "
      "(expected src/core/tcp.c and src/include/lwip/init.h). Point it at the top of an "
      "unpacked lwIP release, or leave it empty to fetch Debian's lwIP 2.1.3 source package.")
  endif()
  set(LWIP_DIR ${MLW_LWIP_SOURCE_DIR})
else()
  execute_process(
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/lwip-port/fetch-lwip.sh ${CMAKE_BINARY_DIR}/_lwip
    RESULT_VARIABLE _mlw_fetch_rc)
  if(NOT _mlw_fetch_rc EQUAL 0)
    message(FATAL_ERROR "Could not obtain pristine lwIP (see the fetch-lwip message above).")
  endif()
  set(LWIP_DIR ${CMAKE_BINARY_DIR}/_lwip/lwip-2.1.3)
endif()
message(STATUS "lwIP source: ${LWIP_DIR}")
# lwIP's own lists of sources (lwipcore_SRCS, lwipapi_SRCS, ...).
include(${LWIP_DIR}/src/Filelists.cmake)
