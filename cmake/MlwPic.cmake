# MlwPic.cmake - mlw_pic_walk(TARGET LIST_PROPERTY): every static or object
# library TARGET links (found by walking the link graph, so one added later
# is covered too) is built position-independent with initial-exec TLS, and
# appended to the global property LIST_PROPERTY. Used by the libraries that
# take the stack into a shared object: preload/ (libmlwip-preload.so) and
# MlwInstall.cmake (libmlwip.so). Executables are PIE on Debian anyway, and
# the linker relaxes their TLS accesses to local-exec, so this costs the
# programs nothing; in a shared object initial-exec TLS (the derived lwIP
# already uses it) keeps a thread-local access one instruction, and the
# object must be loaded at start-up (linked or preloaded), not dlopen()ed.
function(mlw_pic_walk target prop)
  get_property(seen GLOBAL PROPERTY ${prop}_SEEN)
  if(NOT TARGET ${target} OR target IN_LIST seen)
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY ${prop}_SEEN ${target})
  get_target_property(imported ${target} IMPORTED)
  get_target_property(type ${target} TYPE)
  if(imported OR NOT type MATCHES "STATIC_LIBRARY|OBJECT_LIBRARY")
    return()
  endif()
  set_property(GLOBAL APPEND PROPERTY ${prop} ${target})
  set_target_properties(${target} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  target_compile_options(${target} PRIVATE -ftls-model=initial-exec)
  get_target_property(libs ${target} LINK_LIBRARIES)
  get_target_property(ilibs ${target} INTERFACE_LINK_LIBRARIES)
  get_target_property(srcs ${target} INTERFACE_SOURCES)
  # $<TARGET_OBJECTS:x> in interface sources: an object library to include.
  string(REGEX MATCHALL "TARGET_OBJECTS:[A-Za-z0-9_]+" objs "${srcs}")
  string(REPLACE "TARGET_OBJECTS:" "" objs "${objs}")
  foreach(l ${libs} ${ilibs} ${objs})
    string(REGEX REPLACE "^\\$<LINK_ONLY:(.*)>$" "\\1" l "${l}")
    if(l AND NOT l MATCHES "NOTFOUND$")
      mlw_pic_walk(${l} ${prop})
    endif()
  endforeach()
endfunction()
