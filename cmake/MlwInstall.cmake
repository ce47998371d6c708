# Installing mlwip as a library: `cmake --install`, a pkg-config file, a CMake
# package, a .deb (CPack), and the API reference (Doxygen).
#
# What a user links: ONE library, libmlwip.a and libmlwip.so, holding every
# static library of the stack (stack and shards, socket API, DPDK ports, flow
# steering, configuration, allocator, and the derived per-shard lwIP with its
# port). Why one:
# - the pieces call each other in both directions (the socket layer
#   overrides a weak hook of the lwIP port, the stack calls the socket layer
#   on stop, connect.c wraps lwIP's tcp_connect): separate archives must be
#   listed in the right order (twice, for some), while the linker rescans one
#   archive until nothing new is needed;
# - none of the pieces is useful alone, and the derived lwIP must never be
#   mixed with another lwIP in one program;
# - the shared object is then one DT_NEEDED entry, loaded at start-up as its
#   initial-exec TLS requires (below).
# DPDK, libnuma and inih stay the system's shared libraries: DT_NEEDED of
# libmlwip.so, Requires/Libs of mlwip-static.pc.
#
# The shared object's TLS: the derived lwIP's per-shard state is
# _Thread_local, accessed with the initial-exec model (one %fs-relative load
# plus a GOT offset, never a __tls_get_addr call). The linker marks the
# object DF_STATIC_TLS: it must be loaded with the program (DT_NEEDED or
# LD_PRELOAD), not dlopen()ed later; tests/install checks both.
#
# Exported symbols of libmlwip.so: the public API (MLW_EXPORT), lwIP's raw
# API and its thread-local variables (netif_list, ...: raw-API programs use
# them), and the __wrap_ functions the link-time wraps name; internals
# (mlw__*) are not. lwIP and its port are therefore compiled with default
# visibility (and -fno-semantic-interposition, so the compiler keeps inlining
# and calling them directly as with hidden visibility); the rest of mlwip
# stays -fvisibility=hidden with MLW_EXPORT on the API.
include(GNUInstallDirs)

# Link-time wraps every program linked with mlwip needs (lwip-port and
# sharding add them to the in-tree targets): lwIP code calls these names,
# and so may the application's own raw-API code.
set(MLW_INSTALL_WRAPS tcp_connect tcp_bind tcp_input tcp_tmr tcp_output memp_malloc memp_free ip6_reass tcp_write)
set(MLW_INSTALL_WRAP_FLAGS "")
foreach(w ${MLW_INSTALL_WRAPS})
  string(APPEND MLW_INSTALL_WRAP_FLAGS " -Wl,--wrap=${w}")
endforeach()
string(STRIP "${MLW_INSTALL_WRAP_FLAGS}" MLW_INSTALL_WRAP_FLAGS)

# The libraries of the stack, found by walking the link graph, each made
# position-independent with initial-exec TLS (cmake/MlwPic.cmake).
include(MlwPic)
set_property(GLOBAL PROPERTY MLW_INSTALL_LIBS "")
mlw_pic_walk(mlwip_socket MLW_INSTALL_LIBS)
mlw_pic_walk(mlwip MLW_INSTALL_LIBS)
get_property(MLW_INSTALL_LIBS GLOBAL PROPERTY MLW_INSTALL_LIBS)
message(STATUS "libmlwip holds: ${MLW_INSTALL_LIBS}")

# lwIP's API (and the wrap functions) must be exportable from the .so.
target_compile_options(mlwip_lwip PRIVATE -fvisibility=default -fno-semantic-interposition)
target_compile_options(mlwip_connect PRIVATE -fvisibility=default -fno-semantic-interposition)

set(_objs "")
set(_static_objs "")
set(_static_libs "")
foreach(l ${MLW_INSTALL_LIBS})
  list(APPEND _objs $<TARGET_OBJECTS:${l}>)
  get_target_property(type ${l} TYPE)
  if(type STREQUAL "STATIC_LIBRARY")
    list(APPEND _static_objs $<TARGET_OBJECTS:${l}>)
    list(APPEND _static_libs ${l})
  endif()
endforeach()

# libmlwip.a: every object of those libraries in one archive.
add_library(mlwip_install_static STATIC ${_objs})
set_target_properties(mlwip_install_static PROPERTIES OUTPUT_NAME mlwip
  ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib LINKER_LANGUAGE C)
add_dependencies(mlwip_install_static ${MLW_INSTALL_LIBS})

# libmlwip.so: the same objects. Linking the libraries themselves after the
# objects brings their own dependencies (DPDK, libnuma, inih, threads), link
# options (the wraps) and object libraries (connect.c, an interface source
# of mlwip) as the build already uses them; no archive member is taken from
# them, every symbol being defined by the objects.
add_library(mlwip_install_shared SHARED ${_static_objs})
set_target_properties(mlwip_install_shared PROPERTIES OUTPUT_NAME mlwip
  VERSION ${PROJECT_VERSION} SOVERSION ${PROJECT_VERSION_MAJOR}
  LIBRARY_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lib LINKER_LANGUAGE C
  LINK_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/mlwip.map)
target_link_libraries(mlwip_install_shared PRIVATE ${_static_libs})
target_link_options(mlwip_install_shared PRIVATE -Wl,-z,defs -Wl,-Bsymbolic
  -Wl,--version-script=${CMAKE_CURRENT_LIST_DIR}/mlwip.map)
add_dependencies(mlwip_install_shared ${MLW_INSTALL_LIBS})

install(TARGETS mlwip_install_static mlwip_install_shared
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT mlwip
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT mlwip)

# Headers: the public API, and the lwIP include root a raw-API program
# compiles with: lwIP's headers as derived (thread-local declarations: a
# pristine extern declaration of a thread-local variable does not link),
# the lwIP configuration (lwipopts.h and the hooks it names) and arch/cc.h.
get_target_property(_mlw_derive_dir mlwip_lwip MLW_DERIVE_DIR)
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/mlwip DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  COMPONENT mlwip FILES_MATCHING PATTERN "*.h")
set(_lwip_inc ${CMAKE_INSTALL_INCLUDEDIR}/mlwip/lwip)
install(DIRECTORY ${_mlw_derive_dir}/include/ DESTINATION ${_lwip_inc} COMPONENT mlwip
  FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_SOURCE_DIR}/lwip-port/include/lwipopts.h
  ${CMAKE_SOURCE_DIR}/lwip-port/include/mlw_lwip_hooks.h
  ${CMAKE_SOURCE_DIR}/lwip-port/include/mlw_tcp_table.h
  DESTINATION ${_lwip_inc} COMPONENT mlwip)
install(FILES ${CMAKE_SOURCE_DIR}/lwip-port/arch/cc.h DESTINATION ${_lwip_inc}/arch COMPONENT mlwip)

# The derivation, for users' own lwIP applications: the CMake function, its
# scripts, the names the installed lwIP made thread-local, and its input
# include root (lwIP's pristine headers and the same configuration: the
# derivation reads pristine declarations and edits them itself).
set(MLW_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mlwip)
set(MLW_INSTALL_DERIVEDIR ${CMAKE_INSTALL_DATADIR}/mlwip/derive)
install(FILES ${CMAKE_SOURCE_DIR}/lwip-port/derive/derive.py ${CMAKE_SOURCE_DIR}/lwip-port/derive/elfscan.py
  DESTINATION ${MLW_INSTALL_DERIVEDIR} COMPONENT mlwip)
install(FILES ${_mlw_derive_dir}/names.json DESTINATION ${MLW_INSTALL_DERIVEDIR}
  RENAME mlwip_lwip.names.json COMPONENT mlwip)
install(DIRECTORY ${LWIP_DIR}/src/include/ DESTINATION ${MLW_INSTALL_DERIVEDIR}/include COMPONENT mlwip
  FILES_MATCHING PATTERN "*.h")
install(FILES ${CMAKE_SOURCE_DIR}/lwip-port/include/lwipopts.h
  ${CMAKE_SOURCE_DIR}/lwip-port/include/mlw_lwip_hooks.h
  ${CMAKE_SOURCE_DIR}/lwip-port/include/mlw_tcp_table.h
  DESTINATION ${MLW_INSTALL_DERIVEDIR}/include COMPONENT mlwip)
install(FILES ${CMAKE_SOURCE_DIR}/lwip-port/arch/cc.h DESTINATION ${MLW_INSTALL_DERIVEDIR}/include/arch
  COMPONENT mlwip)
install(FILES ${LWIP_DIR}/COPYING DESTINATION ${CMAKE_INSTALL_DOCDIR} RENAME COPYING.lwip COMPONENT mlwip)

# CMake package.
include(CMakePackageConfigHelpers)
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/mlwipConfig.cmake.in
  ${CMAKE_BINARY_DIR}/install/mlwipConfig.cmake
  INSTALL_DESTINATION ${MLW_INSTALL_CMAKEDIR}
  PATH_VARS CMAKE_INSTALL_INCLUDEDIR CMAKE_INSTALL_LIBDIR MLW_INSTALL_DERIVEDIR)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/install/mlwipConfigVersion.cmake
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/install/mlwipConfig.cmake
  ${CMAKE_BINARY_DIR}/install/mlwipConfigVersion.cmake
  ${CMAKE_CURRENT_LIST_DIR}/MlwDerive.cmake
  DESTINATION ${MLW_INSTALL_CMAKEDIR} COMPONENT mlwip)

# pkg-config: mlwip.pc links libmlwip.so, mlwip-static.pc libmlwip.a.
file(RELATIVE_PATH MLW_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
string(REGEX REPLACE "/$" "" MLW_PC_TO_PREFIX "${MLW_PC_TO_PREFIX}")
foreach(pc mlwip mlwip-static)
  configure_file(${CMAKE_CURRENT_LIST_DIR}/${pc}.pc.in ${CMAKE_BINARY_DIR}/install/${pc}.pc @ONLY)
  install(FILES ${CMAKE_BINARY_DIR}/install/${pc}.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig
    COMPONENT mlwip)
endforeach()

# API reference: Doxygen HTML from the public headers' comments.
find_program(MLW_DOXYGEN doxygen)
if(MLW_DOXYGEN)
  configure_file(${CMAKE_SOURCE_DIR}/docs/Doxyfile.in ${CMAKE_BINARY_DIR}/docs/Doxyfile @ONLY)
  add_custom_command(OUTPUT ${CMAKE_BINARY_DIR}/docs/html/index.html
    COMMAND ${MLW_DOXYGEN} ${CMAKE_BINARY_DIR}/docs/Doxyfile
    DEPENDS ${CMAKE_BINARY_DIR}/docs/Doxyfile ${CMAKE_SOURCE_DIR}/docs/mainpage.md
      ${CMAKE_SOURCE_DIR}/include/mlwip/alloc.h ${CMAKE_SOURCE_DIR}/include/mlwip/config.h
      ${CMAKE_SOURCE_DIR}/include/mlwip/epoll.h ${CMAKE_SOURCE_DIR}/include/mlwip/flow.h
      ${CMAKE_SOURCE_DIR}/include/mlwip/lwip_shard.h ${CMAKE_SOURCE_DIR}/include/mlwip/socket.h
      ${CMAKE_SOURCE_DIR}/include/mlwip/stack.h
    WORKING_DIRECTORY ${CMAKE_BINARY_DIR}/docs
    COMMENT "API reference (Doxygen): docs/html/index.html")
  add_custom_target(docs ALL DEPENDS ${CMAKE_BINARY_DIR}/docs/html/index.html)
  install(DIRECTORY ${CMAKE_BINARY_DIR}/docs/html DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT mlwip)
else()
  message(STATUS "doxygen not found: no 'docs' target (scripts/deps.sh installs it)")
endif()
install(FILES ${CMAKE_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR} COMPONENT mlwip)
# mlwip-stat: live statistics and connections of a running stack over DPDK's
# telemetry socket (Python 3, standard library only).
install(PROGRAMS ${CMAKE_SOURCE_DIR}/tools/mlwip-stat/mlwip-stat DESTINATION ${CMAKE_INSTALL_BINDIR}
  COMPONENT mlwip)

# .deb: `cpack -G DEB` in the build tree (tests/install builds and checks it).
set(CPACK_PACKAGE_NAME mlwip)
set(CPACK_PACKAGE_VENDOR "mlwip")
set(CPACK_PACKAGE_CONTACT "mlwip developers <mlwip@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "multicore user-space TCP/IP stack: one lwIP instance per core")
set(CPACK_PACKAGE_DESCRIPTION "mlwip runs one independent lwIP instance per CPU core on DPDK ports,
with a BSD-style socket and epoll API. This package holds libmlwip (static
and shared), its headers and lwIP's (derived per-shard), the pkg-config files
mlwip.pc and mlwip-static.pc, the CMake package (find_package(mlwip)) with the
derivation function mlw_lwip_derive() for per-shard lwIP applications, the
API reference, and mlwip-stat (live statistics and connections of a running
stack over DPDK's telemetry socket).")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
# Building against it needs the headers of what libmlwip links, and the
# derivation needs Python and clang.
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libdpdk-dev, libnuma-dev, libinih-dev, pkg-config")
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "cmake, python3, clang")
set(CPACK_DEBIAN_PACKAGE_SUGGESTS "dpdk-dev")
set(CPACK_GENERATOR DEB)
include(CPack)
