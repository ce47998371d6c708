# mlw_lwip_derive(<target>
#     SOURCES <.c files>            lwIP sources, or an application written for lwIP
#     SOURCE_ROOT <dir>             names of derived files are relative to this
#     INCLUDE_DIRS <dirs>           include path used to preprocess the sources
#     [DEFINES <NAME=VALUE ...>]
#     [HEADER_ROOT <dir>]           also derive this header tree (lwIP's src/include)
#     [INIT_HOOK <function>]        function that runs the per-thread initialiser first
#     [LABEL <text>]                what is derived, for the report (e.g. "lwIP 2.2.1")
#     [IMPORT <derived target>])    use another derivation's thread-local names
#
# Builds static library <target> from a per-shard copy of SOURCES in which
# every mutable global and function-static is _Thread_local (see
# lwip-port/derive/derive.py). The derivation re-runs when any source, any
# header under INCLUDE_DIRS, or the derivation scripts change. Properties set
# on <target>: MLW_DERIVE_DIR (output folder), MLW_DERIVE_NAMES (JSON summary:
# variables, thread-local globals, address tables), MLW_DERIVE_WORK (folder of
# the plain, non-derived objects, used by the shared-nothing checker's self-test).
# Options for lwIP's own (third-party) sources, derived or pristine: no
# warnings, they are not ours to fix. With UBSan, no shift-base check:
# lwIP shifts bytes promoted to int into the sign bit (tcp_parseopt reads a
# received TSval as b0 | b1 << 8 | b2 << 16 | b3 << 24), which ISO C leaves
# undefined and GCC defines ("Integers implementation" in its manual); the
# check would stop every timestamp whose last byte is 0x80 or more.
set(MLW_LWIP_COMPILE_OPTIONS -w)
if(MLW_SANITIZE STREQUAL "address")
  list(APPEND MLW_LWIP_COMPILE_OPTIONS -fno-sanitize=shift-base)
endif()
find_program(MLW_CLANG clang)
find_package(Python3 REQUIRED COMPONENTS Interpreter)
# The scripts: lwip-port/derive/ in the source tree; an installed mlwip's
# mlwipConfig.cmake sets MLW_DERIVE_SCRIPT_DIR to its share/mlwip/derive.
if(NOT MLW_DERIVE_SCRIPT_DIR)
  set(MLW_DERIVE_SCRIPT_DIR ${CMAKE_CURRENT_LIST_DIR}/../lwip-port/derive)
endif()
set(MLW_DERIVE_PY ${MLW_DERIVE_SCRIPT_DIR}/derive.py)
set(MLW_DERIVE_ELFSCAN_PY ${MLW_DERIVE_SCRIPT_DIR}/elfscan.py)

function(mlw_lwip_derive target)
  cmake_parse_arguments(D "" "SOURCE_ROOT;HEADER_ROOT;INIT_HOOK;IMPORT;LABEL" "SOURCES;INCLUDE_DIRS;DEFINES" ${ARGN})
  if(NOT MLW_CLANG)
    message(FATAL_ERROR "clang not found: the lwIP derivation reads clang's AST. Install the Debian package 'clang'.")
  endif()
  set(out ${CMAKE_CURRENT_BINARY_DIR}/${target}.derived)
  set(flags "-std=gnu11")
  set(deps ${MLW_DERIVE_PY} ${MLW_DERIVE_ELFSCAN_PY})
  foreach(dir ${D_INCLUDE_DIRS})
    string(APPEND flags " -I${dir}")
    file(GLOB_RECURSE hdrs CONFIGURE_DEPENDS ${dir}/*.h)
    list(APPEND deps ${hdrs})
  endforeach()
  foreach(def ${D_DEFINES})
    string(APPEND flags " -D${def}")
  endforeach()
  set(outputs)
  foreach(src ${D_SOURCES})
    file(RELATIVE_PATH rel ${D_SOURCE_ROOT} ${src})
    string(REGEX REPLACE "\\.[^./]*$" "" rel ${rel})
    string(MAKE_C_IDENTIFIER ${rel} tag)
    list(APPEND outputs ${out}/${tag}.c)
  endforeach()
  set(extra)
  if(D_HEADER_ROOT)
    list(APPEND extra --header-root ${D_HEADER_ROOT})
  endif()
  if(D_INIT_HOOK)
    list(APPEND extra --init-hook ${D_INIT_HOOK})
  endif()
  if(D_LABEL)
    list(APPEND extra --label ${D_LABEL})
  endif()
  if(D_IMPORT)
    get_target_property(imp ${D_IMPORT} MLW_DERIVE_NAMES)
    list(APPEND extra --import-names ${imp})
    list(APPEND deps ${imp})
  endif()
  add_custom_command(
    OUTPUT ${outputs} ${out}/${target}_tls_init.c ${out}/names.json ${out}/report.txt
    COMMAND ${Python3_EXECUTABLE} ${MLW_DERIVE_PY} --name ${target} --cc ${CMAKE_C_COMPILER}
            --clang ${MLW_CLANG} --flags ${flags} --out ${out} --source-root ${D_SOURCE_ROOT}
            --export-names ${out}/names.json --report ${out}/report.txt ${extra} ${D_SOURCES}
    DEPENDS ${D_SOURCES} ${deps}
    COMMENT "Deriving per-shard ${target} (thread-local globals)"
    VERBATIM)
  add_library(${target} STATIC ${outputs} ${out}/${target}_tls_init.c)
  # lwIP is third-party code: its warnings are not ours to fix. (Only the
  # derived files: a caller may add its own sources to the target.)
  set_source_files_properties(${outputs} ${out}/${target}_tls_init.c PROPERTIES
    COMPILE_OPTIONS "${MLW_LWIP_COMPILE_OPTIONS}")
  # Thread-local access must stay a single instruction plus an offset: the
  # general-dynamic model (the default for -fPIC code) calls __tls_get_addr
  # on every access, which costs lwIP ~40% of its throughput.
  target_compile_options(${target} PRIVATE -ftls-model=initial-exec)
  if(D_HEADER_ROOT)
    target_include_directories(${target} PUBLIC ${out}/include)
  endif()
  # Consumers must see the derived headers, never the pristine ones: a
  # pristine extern declaration of a thread-local variable does not link.
  set(pristine_root ${D_HEADER_ROOT})
  if(D_IMPORT)
    get_target_property(pristine_root ${D_IMPORT} MLW_DERIVE_HEADER_ROOT)
    target_link_libraries(${target} PUBLIC ${D_IMPORT})
  endif()
  if(pristine_root)
    list(REMOVE_ITEM D_INCLUDE_DIRS ${pristine_root})
  endif()
  target_include_directories(${target} PUBLIC ${D_INCLUDE_DIRS})
  set_target_properties(${target} PROPERTIES MLW_DERIVE_HEADER_ROOT "${pristine_root}")
  set_target_properties(${target} PROPERTIES MLW_DERIVE_DIR ${out}
    MLW_DERIVE_NAMES ${out}/names.json MLW_DERIVE_WORK ${out}/work)
endfunction()
