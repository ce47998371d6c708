# Shared part of the Debian cross toolchain files (aarch64-linux-gnu.cmake,
# arm-linux-gnueabihf.cmake), which set MLW_CROSS_TRIPLE, MLW_CROSS_QEMU and
# CMAKE_SYSTEM_PROCESSOR first.
#
# Debian's cross compilers already search the multiarch folders
# (/usr/include/<triple>, /usr/lib/<triple>) where `apt-get install
# libfoo-dev:<arch>` puts headers and libraries, so no sysroot is needed;
# CMake's find_library() looks there too (CMAKE_LIBRARY_ARCHITECTURE, taken
# from the compiler). pkg-config is pointed at the target's .pc files only.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER ${MLW_CROSS_TRIPLE}-gcc)
set(CMAKE_AR ${MLW_CROSS_TRIPLE}-ar CACHE FILEPATH "")
set(CMAKE_RANLIB ${MLW_CROSS_TRIPLE}-ranlib CACHE FILEPATH "")
set(ENV{PKG_CONFIG_LIBDIR} "/usr/lib/${MLW_CROSS_TRIPLE}/pkgconfig:/usr/share/pkgconfig")
set(ENV{PKG_CONFIG_PATH} "")
# Programs are found on the build machine, libraries and headers for the target.
set(CMAKE_FIND_ROOT_PATH /usr/${MLW_CROSS_TRIPLE})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)
# ctest runs the target's programs under qemu-user. The programs load the
# target's multiarch libc (libc6:<arch>, /lib/<triple>), which the -dev
# packages pull in, with its own dynamic loader. No `-L /usr/<triple>`: that
# folder holds the cross toolchain's libc (libc6-<arch>-cross, another
# Debian revision), and its loader with the multiarch libc made every
# threaded test hang at its first pthread_create().
find_program(MLW_CROSS_QEMU_PATH ${MLW_CROSS_QEMU})
if(MLW_CROSS_QEMU_PATH)
  set(CMAKE_CROSSCOMPILING_EMULATOR ${MLW_CROSS_QEMU_PATH})
endif()
