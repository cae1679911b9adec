#!/bin/sh
# Build mdk: one static musl binary (build/mdk), its applet links (build/bin/),
# and the default busybox image (build/images/busybox.tar).
#
#   ./build.sh          build everything (deps are built once and cached in build/deps)
#   ./build.sh test     build, then run tests/run.sh
#   ./build.sh bench    build, then run bench/run.sh
#   ./build.sh deps     only the static dependencies
#   ./build.sh clean    remove build/ (the dependency cache too)
#
# The dependencies (zlib, bzip2, xz, zstd, libarchive) come from Debian's source
# packages, with Debian's patches applied, compiled with musl-gcc. Debian's own
# libarchive.a is built against glibc and does not link with musl.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
B=$top/build
D=$B/deps              # cache: sources, objects, and the sysroot in $D/root
P=$D/root
JOBS=$(nproc 2>/dev/null || echo 2)
VERSION=$(cat "$top/VERSION" 2>/dev/null || echo 0.0.0)

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- host tools -------------------------------------------------------------
# need_pkgs [test]: the build's packages, and with "test" the tests' too.
need_pkgs() {
	missing=
	specs="musl-gcc:musl-tools cmake:cmake make:make gcc:gcc dpkg-source:dpkg-dev
		xz:xz-utils bzip2:bzip2 busybox:busybox-static file:file"
	[ "${1:-}" = test ] && specs="$specs shunit2:shunit2 python3:python3
		zstd:zstd strace:strace getfattr:attr setcap:libcap2-bin setpriv:util-linux
		script:bsdutils shellcheck:shellcheck dash:dash"
	for spec in $specs; do
		tool=${spec%%:*} pkg=${spec#*:}
		if [ "$tool" = busybox ]; then
			# The default image needs a static busybox, not Debian's dynamic one.
			file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' && continue
		else
			command -v "$tool" >/dev/null 2>&1 && continue
		fi
		missing="$missing $pkg"
	done
	[ -f /usr/include/linux/version.h ] || missing="$missing linux-libc-dev"
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages; run as root: apt-get update && apt-get install -y --no-install-recommends$missing"
	fi
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
}

# --- static dependencies from Debian source packages --------------------------
fetch_sources() {
	[ -f "$D/src/.fetched" ] && return 0
	rm -rf "$D/src" "$D/apt"
	mkdir -p "$D/src" "$D/apt/lists/partial"
	# A private sources list and state dir: the host's apt setup is not touched.
	for suite in bookworm bookworm-updates; do
		echo "deb-src http://deb.debian.org/debian $suite main"
	done >"$D/apt/sources.list"
	echo "deb-src http://deb.debian.org/debian-security bookworm-security main" >>"$D/apt/sources.list"
	aptopt="-o Dir::Etc::SourceList=$D/apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$D/apt/lists -o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	apt-get $aptopt update -qq
	# shellcheck disable=SC2086
	(cd "$D/src" && apt-get $aptopt source -qq --download-only \
		zlib bzip2 xz-utils libzstd libarchive >/dev/null)
	for dsc in "$D"/src/*.dsc; do
		name=$(basename "$dsc" .dsc)
		# dpkg-source -x applies Debian's patches (security fixes included).
		(cd "$D/src" && dpkg-source --no-check -q -x "$dsc" "${name%%_*}" >/dev/null)
	done
	touch "$D/src/.fetched"
}

build_deps() {
	[ -f "$P/.done" ] && return 0
	fetch_sources
	rm -rf "$P"
	mkdir -p "$P/lib" "$P/include" "$D/kinc"
	# musl-gcc does not see the kernel headers; libarchive needs linux/fs.h etc.
	ln -sfn /usr/include/linux "$D/kinc/linux"
	ln -sfn /usr/include/asm-generic "$D/kinc/asm-generic"
	ln -sfn "/usr/include/$(gcc -dumpmachine)/asm" "$D/kinc/asm"
	CC="musl-gcc"
	CFLAGS="-Os -fPIC -ffunction-sections -fdata-sections -I$P/include -idirafter $D/kinc"
	export CC CFLAGS
	s=$D/src

	log "deps: zlib"
	(cd "$s/zlib" && ./configure --static --prefix="$P" >/dev/null &&
		make -s -j"$JOBS" libz.a >/dev/null && cp libz.a "$P/lib/" &&
		cp zlib.h zconf.h "$P/include/")

	log "deps: bzip2"
	(cd "$s/bzip2" && make -s -j"$JOBS" CC="$CC" CFLAGS="$CFLAGS -D_FILE_OFFSET_BITS=64" libbz2.a >/dev/null &&
		cp libbz2.a "$P/lib/" && cp bzlib.h "$P/include/")

	log "deps: xz (liblzma)"
	(cd "$s/xz-utils" && ./configure -q --prefix="$P" --disable-shared --enable-static \
		--disable-xz --disable-xzdec --disable-lzmadec --disable-lzmainfo \
		--disable-lzma-links --disable-scripts --disable-doc --disable-nls \
		--disable-threads >/dev/null &&
		make -s -j"$JOBS" -C src/liblzma >/dev/null && make -s -C src/liblzma install >/dev/null)

	log "deps: zstd"
	(cd "$s/libzstd/lib" && make -s -j"$JOBS" libzstd.a ZSTD_LEGACY_SUPPORT=0 \
		ZSTD_LIB_DICTBUILDER=0 ZSTD_LIB_DEPRECATED=0 ZSTD_MULTITHREAD_SUPPORT=0 \
		HAVE_THREAD=0 >/dev/null &&
		cp libzstd.a "$P/lib/" && cp zstd.h zstd_errors.h zdict.h "$P/include/")

	log "deps: libarchive"
	cat >"$D/musl.cmake" <<EOF
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_C_COMPILER musl-gcc)
set(CMAKE_FIND_ROOT_PATH $P)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_LIBRARY_SUFFIXES .a)
EOF
	rm -rf "$D/la-build"
	mkdir -p "$D/la-build"
	(cd "$D/la-build" && cmake -S "$s/libarchive" -B . -DCMAKE_TOOLCHAIN_FILE="$D/musl.cmake" \
		-DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_C_FLAGS="$CFLAGS" \
		-DCMAKE_INSTALL_PREFIX="$P" -DBUILD_SHARED_LIBS=OFF \
		-DENABLE_OPENSSL=OFF -DENABLE_MBEDTLS=OFF -DENABLE_NETTLE=OFF \
		-DENABLE_LIBXML2=OFF -DENABLE_EXPAT=OFF -DENABLE_LZ4=OFF -DENABLE_LZO=OFF \
		-DENABLE_LIBB2=OFF -DENABLE_ACL=OFF -DENABLE_ICONV=OFF -DENABLE_CNG=OFF \
		-DENABLE_XATTR=ON -DENABLE_ZLIB=ON -DENABLE_BZip2=ON -DENABLE_LZMA=ON -DENABLE_ZSTD=ON \
		-DENABLE_TAR=OFF -DENABLE_CPIO=OFF -DENABLE_CAT=OFF -DENABLE_TEST=OFF \
		-DENABLE_INSTALL=ON -DENABLE_WERROR=OFF >"$D/la-cmake.log" 2>&1 ||
		{ tail -20 "$D/la-cmake.log"; exit 1; }
		make -s -j"$JOBS" archive_static >"$D/la-make.log" 2>&1 || { tail -20 "$D/la-make.log"; exit 1; }
		cp libarchive/libarchive.a "$P/lib/" &&
		cp "$s/libarchive/libarchive/archive.h" "$s/libarchive/libarchive/archive_entry.h" "$P/include/")
	# The static-link order for the project.
	echo "-larchive -lzstd -llzma -lbz2 -lz" >"$P/libs"
	touch "$P/.done"
}

# --- the project --------------------------------------------------------------
build_mdk() {
	mkdir -p "$B/obj" "$B/bin"
	flags="-std=c11 -D_GNU_SOURCE -Os -Wall -Wextra -Werror -Wno-unused-parameter
		-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
		-fno-stack-protector -I$top/src -I$P/include -idirafter $D/kinc
		-DMDK_VERSION=\"$VERSION\""
	# Compile each file only when it or a header is newer than its object.
	newest_h=$(ls -t "$top"/src/*.h | head -n 1)
	objs=
	pids=
	for c in "$top"/src/*.c "$top"/applets/*.c; do
		o=$B/obj/$(basename "$(dirname "$c")")_$(basename "$c" .c).o
		objs="$objs $o"
		if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ "$newest_h" -nt "$o" ] || [ "$top/build.sh" -nt "$o" ]; then
			# shellcheck disable=SC2086
			musl-gcc $flags -c "$c" -o "$o" &
			pids="$pids $!"
		fi
	done
	for p in $pids; do wait "$p" || die "compile failed"; done
	# shellcheck disable=SC2086,SC2046
	musl-gcc -static -s -Wl,--gc-sections -Wl,-O1 -o "$B/mdk.new" $objs -L"$P/lib" $(cat "$P/libs")
	mv -f "$B/mdk.new" "$B/mdk"
	# One link per applet, so build/bin can go on PATH.
	rm -f "$B"/bin/mdk-*
	for a in $("$B/mdk" --list); do ln -s ../mdk "$B/bin/$a"; done
	ln -sfn ../mdk "$B/bin/mdk"
	log "built $B/mdk ($(wc -c <"$B/mdk") bytes, $(ls "$B/bin" | wc -l) links)"
}

# The default image: a busybox rootfs from Debian's busybox-static, in the
# "docker export" tar form, written by mdk-pack (scripts/mkimage).
build_image() {
	img=$B/images/busybox.tar
	[ -f "$img" ] && [ "$img" -nt /bin/busybox ] && [ "$img" -nt "$top/scripts/mkimage" ] && return 0
	mkdir -p "$B/images"
	rm -f "$img.new"
	MDK=$B/mdk "$top/scripts/mkimage" busybox /bin/busybox "$img.new"
	mv -f "$img.new" "$img"
	log "built $img"
}

cmd=${1:-all}
case $cmd in
all | test | bench)
	need_pkgs "$cmd"
	build_deps
	build_mdk
	build_image
	case $cmd in
	test) shift; exec sh "$top/tests/run.sh" "$@" ;;
	bench) shift; exec sh "$top/bench/run.sh" "$@" ;;
	esac
	;;
deps) need_pkgs; build_deps ;;
clean) rm -rf "$B" ;;
*) die "usage: ./build.sh [all|test|bench|deps|clean]" ;;
esac
