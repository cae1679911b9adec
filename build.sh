#!/bin/sh
# Build mdk: one static musl binary (build/mdk), its applet links (build/bin/),
# and the default busybox image (build/images/busybox.tar).
#
#   ./build.sh          build everything (deps are built once and cached in build/deps)
#   ./build.sh test     build, then run tests/run.sh
#   ./build.sh bench    build, then run bench/run.sh
#   ./build.sh mutants [NAME...]  build, then the mutation check
#                       (tests/mutants.sh): each mutant of tests/mutants.list
#                       built in a scratch copy, the tests that must catch it
#                       run; slow, not part of the test run
#   ./build.sh asan [SUITE...]  build/asan/mdk with AddressSanitizer and
#                       UndefinedBehaviorSanitizer (clang, Debian's dynamic
#                       libarchive), then run the tests against it
#   ./build.sh fuzz [SECONDS]   build the libFuzzer targets (tests/fuzz/*.c) into
#                       build/fuzz/ and run each for SECONDS (default 30)
#   ./build.sh fuzz-build       only build them
#   ./build.sh deps     only the static dependencies
#   ./build.sh fetch    only their sources; prints the versions fetched
#   ./build.sh clean    remove build/ (the dependency cache too)
#
# The dependencies (zlib, bzip2, xz, zstd, libarchive) come from Debian's source
# packages, with Debian's patches applied, compiled with musl-gcc. Debian's own
# libarchive.a is built against glibc and does not link with musl.
set -eu

top=$(cd "$(dirname "$0")" && pwd)
B=${MDK_BUILD:-$top/build}   # MDK_BUILD: another build directory
D=$B/deps              # cache: sources, objects, and the sysroot in $D/root
P=$D/root
JOBS=$(nproc 2>/dev/null || echo 2)
VERSION=$(cat "$top/VERSION" 2>/dev/null || echo 0.0.0)

log() { printf 'build.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# --- host tools -------------------------------------------------------------
# The sanitizer and fuzzer builds: clang with its runtimes (ASan, UBSan,
# libFuzzer), llvm-symbolizer for readable reports, Debian's dynamic libarchive,
# libseccomp, jansson and nettle.
CLANG_VER=14
CLANG_RT=/usr/lib/llvm-$CLANG_VER/lib/clang
SAN_SPECS="clang-$CLANG_VER:clang-$CLANG_VER llvm-symbolizer:llvm
	/usr/include/archive.h:libarchive-dev /usr/include/seccomp.h:libseccomp-dev
	/usr/include/jansson.h:libjansson-dev /usr/include/nettle/sha2.h:nettle-dev python3:python3"

# need_pkgs [test|san]: the build's packages, with "test" the tests' too (the
# fuzz suite's clang included), with "san" only the sanitizer build's. A spec
# is TOOL:PACKAGE, or /FILE:PACKAGE for a file the package installs.
need_pkgs() {
	missing=
	specs="musl-gcc:musl-tools cmake:cmake make:make gcc:gcc dpkg-source:dpkg-dev
		xz:xz-utils bzip2:bzip2 gperf:gperf m4:m4 busybox:busybox-static file:file"
	[ "${1:-}" = test ] && specs="$specs shunit2:shunit2 python3:python3
		zstd:zstd strace:strace getfattr:attr setcap:libcap2-bin setpriv:util-linux
		script:bsdutils shellcheck:shellcheck dash:dash
		apt-ftparchive:apt-utils gpg:gnupg umoci:umoci skopeo:skopeo podman:podman
		mmdebstrap:mmdebstrap debootstrap:debootstrap runc:runc conmon:conmon containerd:containerd
		containerd-shim-runc-v2:containerd $SAN_SPECS"
	[ "${1:-}" = san ] && specs="make:make $SAN_SPECS"
	for spec in $specs; do
		tool=${spec%%:*} pkg=${spec#*:}
		if [ "${tool#/}" != "$tool" ]; then
			[ -e "$tool" ] && continue
		elif [ "$tool" = busybox ]; then
			# The default image needs a static busybox, not Debian's dynamic one.
			file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' && continue
		else
			command -v "$tool" >/dev/null 2>&1 && continue
		fi
		missing="$missing $pkg"
	done
	[ -f /usr/include/linux/version.h ] || missing="$missing linux-libc-dev"
	# The runtimes: libclang-rt-N-dev (in bookworm not a dependency of clang-N).
	case " $specs " in
	*" clang-$CLANG_VER:"*)
		ls "$CLANG_RT"/*/lib/linux/libclang_rt.fuzzer-"$(uname -m)".a >/dev/null 2>&1 ||
			missing="$missing libclang-rt-$CLANG_VER-dev"
		;;
	esac
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" -ne 0 ]; then
		die "missing packages; run as root: apt-get update && apt-get install -y --no-install-recommends$missing"
	fi
	log "installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# shellcheck disable=SC2086
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
	# The tests start a containerd of their own: the package's service,
	# started by its install, is not wanted.
	case " $missing " in
	*" containerd "*) systemctl disable --now containerd >/dev/null 2>&1 || : ;;
	esac
}

# --- static dependencies from Debian source packages --------------------------
SRC_PKGS="zlib bzip2 xz-utils libzstd libarchive libseccomp jansson nettle"

# The deb-src lines to fetch from: $MDK_APT_SOURCES (a sources.list file) when
# set, else the machine's own apt configuration -- the URIs of its deb entries
# for this release, its -updates and its -security suite -- so a machine that
# reaches Debian only through its own mirror or proxy builds too. apt parses
# the configuration (one-line and deb822 forms alike).
apt_sources() {
	if [ -n "${MDK_APT_SOURCES:-}" ]; then
		cat "$MDK_APT_SOURCES"
		return
	fi
	# shellcheck disable=SC1091
	codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-}")
	[ -n "$codename" ] || die "no VERSION_CODENAME in /etc/os-release; set MDK_APT_SOURCES to a deb-src list"
	# shellcheck disable=SC2016
	list=$(apt-get indextargets --no-release-info --format '$(REPO_URI) $(RELEASE) $(COMPONENT)' \
		'Created-By: Packages' 'Target-Of: deb' | sort -u | while read -r uri suite comp; do
		case $suite in "$codename" | "$codename"-updates | "$codename"-security) ;; *) continue ;; esac
		[ "$comp" = main ] && echo "deb-src $uri $suite main"
	done)
	[ -n "$list" ] || die "apt has no deb entry for $codename main (see /etc/apt/sources.list*); set MDK_APT_SOURCES to a deb-src list"
	echo "$list"
}

# Versions newest first, by Debian's rules.
newest_first() {
	out=
	for v; do
		new='' placed=''
		for o in $out; do
			if [ -z "$placed" ] && dpkg --compare-versions "$v" gt "$o"; then
				new="$new $v" placed=1
			fi
			new="$new $o"
		done
		[ -n "$placed" ] || new="$new $v"
		out=$new
	done
	echo $out
}

# fetch_one PKG DIR: download PKG's source into DIR and unpack it as DIR/PKG.
# Newest listed version first, from the suites in the order security, updates,
# release; when one cannot be fetched (a mirror's pool lagging behind its
# index), the next. apt verifies each file against the signed index.
fetch_one() {
	pkg=$1 dir=$2
	# "VERSION SUITE" pairs, as the indexes list them.
	# shellcheck disable=SC2086
	pairs=$(apt-cache $aptopt madison "$pkg" 2>/dev/null |
		awk -F'|' '$3 ~ / Sources$/ { split($2, v, " "); split($3, w, " "); sub("/.*", "", w[2]); print v[1], w[2] }' | sort -u)
	[ -n "$pairs" ] || die "$pkg: no source package in the index (sources: $(grep -v '^#' "$D/apt/sources.list" | tr '\n' ';'))"
	# shellcheck disable=SC2046
	versions=$(newest_first $(echo "$pairs" | cut -d' ' -f1 | sort -u))
	cands=
	for v in $versions; do
		for rank in -security -updates ''; do
			for suite in $(echo "$pairs" | awk -v v="$v" '$1 == v { print $2 }'); do
				case $rank:$suite in
				-security:*-security | -updates:*-updates) ;;
				:*-security | :*-updates) continue ;;
				:*) ;;
				*) continue ;;
				esac
				cands="$cands $v@$suite"
			done
		done
	done
	first='' why='' tried=''
	for c in $cands; do
		v=${c%@*} suite=${c#*@}
		first=${first:-$c}
		rm -rf "$dir/dl"
		mkdir -p "$dir/dl"
		# shellcheck disable=SC2086
		if (cd "$dir/dl" && apt-get $aptopt source -qq --download-only --only-source "$pkg/$suite") >"$D/apt/$pkg.log" 2>&1 &&
			[ -f "$dir/dl/${pkg}_${v#*:}.dsc" ]; then
			[ "$c" = "$first" ] || log "deps: $pkg $v from $suite used instead of ${first%@*} from ${first#*@}: $why"
			# dpkg-source -x applies Debian's patches (security fixes included).
			(cd "$dir/dl" && dpkg-source --no-check -q -x "${pkg}_${v#*:}.dsc" "../$pkg" >/dev/null) ||
				die "$pkg $v: dpkg-source failed"
			rm -rf "$dir/dl"
			echo "$pkg $v" >>"$dir/versions"
			return 0
		fi
		e=$(grep -m1 '^E: ' "$D/apt/$pkg.log" | sed 's/^E: //; s/ *\[IP:.*//')
		[ -n "$why" ] || why=${e:-apt-get source failed}
		tried="$tried $v from $suite (${e:-failed});"
	done
	rm -rf "$dir/dl"
	die "$pkg: no listed source version could be fetched; tried:${tried%;}"
}

# Fetched into src.new and renamed to src only when every package unpacked:
# an interrupted or failed fetch is never taken as complete; a retry starts clean.
# has_all FILE: FILE (a versions record) names every package of $SRC_PKGS,
# so a dependency added to the list is fetched and built.
has_all() {
	[ -f "$1" ] && [ "$(cut -d' ' -f1 "$1" | tr '\n' ' ')" = "$SRC_PKGS " ]
}

fetch_sources() {
	[ -f "$D/src/.fetched" ] && has_all "$D/src/versions" && return 0
	rm -rf "$D/src" "$D/src.new" "$D/apt"
	mkdir -p "$D/src.new" "$D/apt/lists/partial"
	# A private sources list and state dir: the host's apt setup is not touched.
	apt_sources >"$D/apt/sources.list"
	aptopt="-o Dir::Etc::SourceList=$D/apt/sources.list -o Dir::Etc::SourceParts=/dev/null -o Dir::State::Lists=$D/apt/lists -o Dir::State::status=/dev/null -o APT::Sandbox::User=root"
	# shellcheck disable=SC2086
	apt-get $aptopt update -qq || die "apt-get update of the deb-src list $D/apt/sources.list failed"
	for pkg in $SRC_PKGS; do
		fetch_one "$pkg" "$D/src.new"
	done
	touch "$D/src.new/.fetched"
	mv "$D/src.new" "$D/src"
}

build_deps() {
	[ -f "$P/.done" ] && has_all "$P/versions" && return 0
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
	log "deps: libseccomp"
	# gperf regenerates the syscall table at configure time.
	(cd "$s/libseccomp" && ./configure -q --prefix="$P" --disable-shared --enable-static \
		--disable-python >/dev/null && make -s -j"$JOBS" -C src >/dev/null &&
		cp src/.libs/libseccomp.a "$P/lib/" && cp include/seccomp.h include/seccomp-syscalls.h "$P/include/")

	log "deps: jansson"
	rm -rf "$D/jansson-build"
	(cd "$s/jansson" && cmake -S . -B "$D/jansson-build" -DCMAKE_TOOLCHAIN_FILE="$D/musl.cmake" \
		-DCMAKE_BUILD_TYPE=MinSizeRel -DCMAKE_C_FLAGS="$CFLAGS" -DJANSSON_BUILD_DOCS=OFF \
		-DJANSSON_EXAMPLES=OFF -DJANSSON_WITHOUT_TESTS=ON -DJANSSON_BUILD_SHARED_LIBS=OFF \
		>"$D/jansson-cmake.log" 2>&1 && make -s -j"$JOBS" -C "$D/jansson-build" >/dev/null &&
		cp "$D/jansson-build/lib/libjansson.a" "$P/lib/" &&
		cp "$D/jansson-build/include/jansson.h" "$D/jansson-build/include/jansson_config.h" "$P/include/")

	log "deps: nettle (sha256)"
	# Only libnettle (no public-key half, so no GMP); the fat build chooses
	# the CPU's SHA instructions at run time. m4 turns its assembly into .s;
	# config.h.in is touched because Debian's patch makes it look stale and
	# autoheader is not needed.
	(cd "$s/nettle" && touch config.h.in stamp-h.in && ./configure -q --prefix="$P" --disable-shared \
		--enable-static --enable-fat --disable-public-key --disable-documentation \
		--disable-openssl --disable-gcov >/dev/null &&
		{ make -s -j"$JOBS" libnettle.a >"$D/nettle-make.log" 2>&1 || { tail -20 "$D/nettle-make.log"; exit 1; }; } &&
		make -s install-headers >/dev/null && cp libnettle.a "$P/lib/")

	# The static-link order for the project.
	echo "-larchive -lzstd -llzma -lbz2 -lz -lseccomp -ljansson -lnettle" >"$P/libs"
	# The exact source versions built in, for mdk --version.
	cp "$s/versions" "$P/versions"
	touch "$P/.done"
}

# --- the project --------------------------------------------------------------
build_mdk() {
	mkdir -p "$B/obj" "$B/bin"
	flags="-std=c11 -D_GNU_SOURCE -Os -Wall -Wextra -Werror -Wno-unused-parameter
		-ffunction-sections -fdata-sections -fno-asynchronous-unwind-tables
		-fno-stack-protector -I$top/src -I$B/obj -I$P/include -idirafter $D/kinc
		-DMDK_VERSION=\"$VERSION\""
	# Compile each file only when it or a header is newer than its object.
	# The dependencies' Debian source versions, for mdk --version.
	{
		printf '#define MDK_DEPS \\\n'
		sed 's/.*/\t"&\\n" \\/' "$P/versions"
		printf '\t""\n'
	} >"$B/obj/deps.h.new"
	if cmp -s "$B/obj/deps.h.new" "$B/obj/deps.h"; then rm -f "$B/obj/deps.h.new"; else mv -f "$B/obj/deps.h.new" "$B/obj/deps.h"; fi
	# The default seccomp filter, compiled by libseccomp here, once, not
	# at every container start.
	if [ ! -f "$B/obj/seccomp_default.h" ] || [ "$top/src/seccomp.c" -nt "$B/obj/seccomp_default.h" ] ||
		[ "$P/.done" -nt "$B/obj/seccomp_default.h" ]; then
		# shellcheck disable=SC2086
		musl-gcc $flags -DMDK_SECCOMP_GEN -static -o "$B/obj/seccomp-gen" "$top/src/seccomp.c" \
			"$top/src/err.c" -L"$P/lib" -lseccomp -ljansson || die "seccomp generator failed to build"
		"$B/obj/seccomp-gen" >"$B/obj/seccomp_default.h.new" || die "seccomp generator failed"
		mv -f "$B/obj/seccomp_default.h.new" "$B/obj/seccomp_default.h"
	fi
	newest_h=$(ls -t "$top"/src/*.h "$B/obj/deps.h" "$B/obj/seccomp_default.h" | head -n 1)
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

# --- sanitizer and fuzzer builds ----------------------------------------------
# compile OBJDIR CC FLAGS SOURCE...: each source into OBJDIR (only when it, a
# header or build.sh is newer than its object), in parallel; sets $objs.
compile() {
	odir=$1 cc=$2 cflags=$3
	shift 3
	mkdir -p "$odir"
	newest_h=$(ls -t "$top"/src/*.h | head -n 1)
	objs='' pids=''
	for c; do
		o=$odir/$(basename "$(dirname "$c")")_$(basename "$c" .c).o
		objs="$objs $o"
		if [ ! -f "$o" ] || [ "$c" -nt "$o" ] || [ "$newest_h" -nt "$o" ] || [ "$top/build.sh" -nt "$o" ]; then
			# shellcheck disable=SC2086
			$cc $cflags -c "$c" -o "$o" &
			pids="$pids $!"
		fi
	done
	for p in $pids; do wait "$p" || die "compile failed"; done
}

# Debug info and frame pointers for whole stack traces; every UBSan check
# fatal (-fno-sanitize-recover), so nothing is reported and then ignored.
SAN_LIBS="-larchive -lseccomp -ljansson -lnettle"
SAN_CFLAGS="-std=c11 -D_GNU_SOURCE -O1 -g -fno-omit-frame-pointer -Wall -Wextra -Werror
	-Wno-unused-parameter -I$top/src -fsanitize=address,undefined -fno-sanitize-recover=all"

# build/asan/mdk (+ build/asan/bin links): the whole program with ASan and
# UBSan, linked dynamically against Debian's libarchive (ASan does not link
# statically). Only the host runs it: mdk never executes itself inside a
# container root (PID 1 and the command are forks; the --privileged re-exec
# from a sealed copy happens on the host, before any namespace is entered).
build_asan() {
	a=$B/asan
	mkdir -p "$a/obj" "$a/bin"
	# mdk --version names the Debian packages it runs with.
	{
		printf '#define MDK_DEPS \\\n'
		dpkg-query -W -f '${Package} ${Version} (dynamic, sanitizer build)\n' \
			libarchive13 zlib1g liblzma5 libbz2-1.0 libzstd1 libseccomp2 libjansson4 libnettle8 | sed 's/.*/\t"&\\n" \\/'
		printf '\t""\n'
	} >"$a/obj/deps.h.new"
	if cmp -s "$a/obj/deps.h.new" "$a/obj/deps.h"; then rm -f "$a/obj/deps.h.new"; else mv -f "$a/obj/deps.h.new" "$a/obj/deps.h"; fi
	if [ "$a/obj/deps.h" -nt "$a/obj/applets_version.o" ]; then rm -f "$a/obj/applets_version.o"; fi
	# (-I$B/obj after: the default seccomp filter build_mdk generated.)
	compile "$a/obj" "clang-$CLANG_VER" "$SAN_CFLAGS -I$a/obj -I$B/obj -DMDK_VERSION=\"$VERSION-asan\"" \
		"$top"/src/*.c "$top"/applets/*.c "$top/tests/sanitizer_options.c"
	# shellcheck disable=SC2086
	"clang-$CLANG_VER" -fsanitize=address,undefined -o "$a/mdk.new" $objs $SAN_LIBS
	mv -f "$a/mdk.new" "$a/mdk"
	rm -f "$a"/bin/mdk-*
	for x in $(ASAN_OPTIONS=detect_leaks=0 "$a/mdk" --list); do ln -s ../mdk "$a/bin/$x"; done
	ln -sfn ../mdk "$a/bin/mdk"
	log "built $a/mdk (ASan + UBSan)"
}

# build/fuzz/TARGET: one libFuzzer binary per tests/fuzz/TARGET.c, linked
# with the project's src/*.c (less the dispatcher) built by clang.
build_fuzz() {
	f=$B/fuzz
	set --
	for c in "$top"/src/*.c; do
		[ "$c" = "$top/src/main.c" ] || set -- "$@" "$c"
	done
	compile "$f/obj" "clang-$CLANG_VER" "$SAN_CFLAGS -I$B/obj -fsanitize=fuzzer-no-link -DMDK_VERSION=\"$VERSION-fuzz\"" "$@"
	srcobjs=$objs
	count=0
	for t in "$top"/tests/fuzz/*.c; do
		n=$(basename "$t" .c)
		compile "$f/obj" "clang-$CLANG_VER" "$SAN_CFLAGS -fsanitize=fuzzer-no-link" "$t"
		# shellcheck disable=SC2086
		"clang-$CLANG_VER" -fsanitize=fuzzer,address,undefined -o "$f/$n.new" $objs $srcobjs $SAN_LIBS ||
			die "link $n failed"
		mv -f "$f/$n.new" "$f/$n"
		count=$((count + 1))
	done
	log "built $count fuzz targets in $f"
}

# Each target for SECS seconds on a copy of its seed corpus (new inputs
# stay in build/fuzz/corpus/); a crash stops with the reproducer's path.
run_fuzz() {
	secs=$1 f=$B/fuzz failed=
	for t in "$top"/tests/fuzz/*.c; do
		n=$(basename "$t" .c)
		mkdir -p "$f/corpus/$n" "$f/crashes/$n"
		seeds=$top/tests/fuzz/corpus/$n
		[ -d "$seeds" ] || seeds=
		# Generated seeds: tar archives are made, not committed as blobs.
		sh "$top/tests/fuzz/seeds.sh" "$n" "$f/corpus/$n" || die "fuzz: seeds for $n"
		log "fuzz: $n for ${secs}s"
		if ! (cd "$f/crashes/$n" && "$f/$n" -max_total_time="$secs" -print_final_stats=1 \
			-artifact_prefix="$f/crashes/$n/" "$f/corpus/$n" ${seeds:+"$seeds"} >"$f/$n.log" 2>&1); then
			tail -n 40 "$f/$n.log" >&2
			failed="$failed $n"
		fi
		# The last status line (coverage, corpus, exec/s) and the totals.
		log "fuzz: $n: $(grep -E '^#[0-9]+' "$f/$n.log" | tail -n 1)"
		log "fuzz: $n: $(sed -n 's/^stat::\(number_of_executed_units\|average_exec_per_sec\|new_units_added\): */\1=/p' "$f/$n.log" | tr '\n' ' ')"
	done
	[ -z "$failed" ] || die "fuzz: crashes in:$failed (reproducers in $f/crashes/; add each to tests/fuzz/regress/TARGET/ with its fix)"
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
all | test | bench | mutants)
	need_pkgs "$([ "$cmd" = mutants ] && echo test || echo "$cmd")"
	build_deps
	build_mdk
	build_image
	case $cmd in
	test) shift; exec sh "$top/tests/run.sh" "$@" ;;
	bench) shift; exec sh "$top/bench/run.sh" "$@" ;;
	mutants) shift; exec sh "$top/tests/mutants.sh" "$@" ;;
	esac
	;;
asan)
	# The tests need their tools, the default image and build/mdk too.
	need_pkgs test
	build_deps
	build_mdk
	build_image
	build_asan
	shift
	exec env MDK="$B/asan/mdk" sh "$top/tests/run.sh" "$@"
	;;
fuzz | fuzz-build)
	# The fuzzers link src/, which includes what build_mdk generates.
	need_pkgs san
	build_deps
	build_mdk
	build_fuzz
	[ "$cmd" = fuzz ] || exit 0
	secs=${2:-30}
	case $secs in '' | *[!0-9]*) die "fuzz: SECONDS must be a number, not '$secs'" ;; esac
	run_fuzz "$secs"
	;;
deps) need_pkgs; build_deps ;;
fetch) need_pkgs; fetch_sources; cat "$D/src/versions" ;;
clean) rm -rf "$B" ;;
*) die "usage: ./build.sh [all|test|bench|asan [SUITE...]|fuzz [SECONDS]|fuzz-build|deps|fetch|clean]" ;;
esac
