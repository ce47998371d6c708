# Cross build for 64-bit ARM (aarch64) with Debian's cross toolchain
# (crossbuild-essential-arm64) and multiarch :arm64 -dev packages; tests run
# under qemu-user (qemu-user-static). scripts/cross.sh arm64 uses it.
set(MLW_CROSS_TRIPLE aarch64-linux-gnu)
set(MLW_CROSS_QEMU qemu-aarch64-static)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
