# Pristine lwIP at configure time: Debian's orig tarball of lwIP
# MLW_LWIP_VERSION (2.2.1 from Debian 13, the default, or 2.1.3 from
# Debian 12), sha256-pinned, fetched with a private apt configuration into
# the build tree (lwip-port/fetch-lwip.sh), or the tree named by
# MLW_LWIP_SOURCE_DIR.
# Sets LWIP_DIR and MLW_LWIP_VERSION_FOUND (the version in the tree's
# lwip/init.h, e.g. "2.2.1", with "rc1"/"d" appended for release candidates
# and development trees).
set(_mlw_lwip_versions 2.2.1 2.1.3)
if(NOT MLW_LWIP_VERSION IN_LIST _mlw_lwip_versions)
  message(FATAL_ERROR "MLW_LWIP_VERSION=${MLW_LWIP_VERSION} is not supported: use 2.2.1 "
    "(Debian 13's lwIP, the default) or 2.1.3 (Debian 12's). For another lwIP tree, set "
    "MLW_LWIP_SOURCE_DIR=/path/to/lwip instead.")
endif()

if(MLW_LWIP_SOURCE_DIR)
  if(NOT EXISTS ${MLW_LWIP_SOURCE_DIR}/src/core/tcp.c OR NOT EXISTS ${MLW_LWIP_SOURCE_DIR}/src/include/lwip/init.h)
    message(FATAL_ERROR "MLW_LWIP_SOURCE_DIR=${MLW_LWIP_SOURCE_DIR} is not an lwIP source tree "
      "(expected src/core/tcp.c and src/include/lwip/init.h). Point it at the top of an "
      "unpacked lwIP release, or leave it empty to fetch Debian's lwIP ${MLW_LWIP_VERSION} source package.")
  endif()
  set(LWIP_DIR ${MLW_LWIP_SOURCE_DIR})
else()
  execute_process(
    COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/lwip-port/fetch-lwip.sh ${MLW_LWIP_VERSION} ${CMAKE_BINARY_DIR}/_lwip
    RESULT_VARIABLE _mlw_fetch_rc)
  if(NOT _mlw_fetch_rc EQUAL 0)
    message(FATAL_ERROR "Could not obtain pristine lwIP ${MLW_LWIP_VERSION} (see the fetch-lwip message above).")
  endif()
  set(LWIP_DIR ${CMAKE_BINARY_DIR}/_lwip/lwip-${MLW_LWIP_VERSION})
endif()

# The version the tree says it is (a user tree may be any version).
file(STRINGS ${LWIP_DIR}/src/include/lwip/init.h _mlw_init_h
  REGEX "^#define[ \t]+LWIP_VERSION_(MAJOR|MINOR|REVISION|RC)[ \t]")
set(MLW_LWIP_VERSION_FOUND "")
foreach(part MAJOR MINOR REVISION RC)
  set(_v_${part} "")
  foreach(line ${_mlw_init_h})
    if(line MATCHES "^#define[ \t]+LWIP_VERSION_${part}[ \t]+([0-9A-Za-z_]+)")
      set(_v_${part} ${CMAKE_MATCH_1})
    endif()
  endforeach()
endforeach()
if(_v_MAJOR STREQUAL "" OR _v_MINOR STREQUAL "" OR _v_REVISION STREQUAL "")
  message(FATAL_ERROR "${LWIP_DIR}/src/include/lwip/init.h has no LWIP_VERSION_MAJOR/MINOR/REVISION: "
    "not an lwIP tree mlwip can use.")
endif()
set(MLW_LWIP_VERSION_FOUND ${_v_MAJOR}.${_v_MINOR}.${_v_REVISION})
if(_v_RC STREQUAL "LWIP_RC_DEVELOPMENT" OR _v_RC STREQUAL "0")
  string(APPEND MLW_LWIP_VERSION_FOUND "d")
elseif(NOT _v_RC STREQUAL "LWIP_RC_RELEASE" AND NOT _v_RC STREQUAL "255")
  string(APPEND MLW_LWIP_VERSION_FOUND "rc${_v_RC}")
endif()

if(MLW_LWIP_SOURCE_DIR)
  message(STATUS "lwIP source: ${LWIP_DIR} (lwIP ${MLW_LWIP_VERSION_FOUND} by its init.h; "
    "MLW_LWIP_VERSION is not used with MLW_LWIP_SOURCE_DIR)")
  if(NOT MLW_LWIP_VERSION_FOUND IN_LIST _mlw_lwip_versions)
    string(REPLACE ";" " and " _tested "${_mlw_lwip_versions}")
    message(WARNING "lwIP ${MLW_LWIP_VERSION_FOUND} in ${LWIP_DIR} is not a version mlwip is tested "
      "with (${_tested}); the build may fail, and tests that compare against a "
      "version's expected variables are skipped.")
  endif()
else()
  if(NOT MLW_LWIP_VERSION_FOUND STREQUAL MLW_LWIP_VERSION)
    message(FATAL_ERROR "${LWIP_DIR} says it is lwIP ${MLW_LWIP_VERSION_FOUND}, not ${MLW_LWIP_VERSION}: "
      "remove ${CMAKE_BINARY_DIR}/_lwip and configure again.")
  endif()
  message(STATUS "lwIP source: ${LWIP_DIR} (lwIP ${MLW_LWIP_VERSION_FOUND}, pristine, sha256-pinned)")
endif()
# lwIP's own lists of sources (lwipcore_SRCS, lwipapi_SRCS, ...).
include(${LWIP_DIR}/src/Filelists.cmake)
