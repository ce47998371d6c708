# memif_ini.sh - sourced by bench_capture.sh and callgrind_capture.sh: ini()
# writes a 1-shard mlwip INI on net_memif (control socket $TMP/memif.sock),
# polling, with [capture] start = on into $TMP/cap.pcapng when a 7th
# argument is given.
ini() {	# FILE PREFIX ROLE CORE ADDR MAC [capture]
	{
		echo "[eal]"
		echo "args = --no-huge --no-pci -m 512 --file-prefix=$2 --vdev=net_memif0,role=$3,socket=$TMP/memif.sock,socket-abstract=no,id=0"
		echo "[stack]"
		echo "shards = 1"
		echo "cores = $4"
		echo "idle = poll"
		echo "[port0]"
		echo "ipv4 = $5/24"
		echo "mac = $6"
		if [ -n "${7:-}" ]; then
			echo "[capture]"
			echo "file = $TMP/cap.pcapng"
			echo "start = on"
		fi
	} >"$1"
}
