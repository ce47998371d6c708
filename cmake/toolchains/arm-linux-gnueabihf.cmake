# Cross build for 32-bit ARM (armhf: ARMv7, hard float) with Debian's cross
# toolchain (crossbuild-essential-armhf) and multiarch :armhf -dev packages;
# tests run under qemu-user (qemu-user-static). Debian has no DPDK for armhf:
# configure with -DMLW_WITH_DPDK=OFF. scripts/cross.sh armhf uses it.
set(MLW_CROSS_TRIPLE arm-linux-gnueabihf)
set(MLW_CROSS_QEMU qemu-arm-static)
set(CMAKE_SYSTEM_PROCESSOR arm)
include(${CMAKE_CURRENT_LIST_DIR}/debian-cross.cmake)
