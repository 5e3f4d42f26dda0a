#!/bin/sh
# Copies the JNI library built by cargo (rust/ballista-jni) into the jar's
# resources, stripped of debug info (330 MB -> 180 MB; the jar compresses it
# to ~60 MB). Looks in $BALLISTA_NATIVE_LIB, else
# $CARGO_TARGET_DIR/debug/libballista_jni.so (as `make test-java` builds it),
# else the repository's target/debug. Without the library the jar is built
# anyway: everything but Ballista.standalone() works, and standalone() says
# how to build it.
set -eu
out="$1"
src="${BALLISTA_NATIVE_LIB:-}"
if [ -z "$src" ]; then
  dir="${CARGO_TARGET_DIR:-$(dirname "$0")/../../../../target}"
  src="$dir/debug/libballista_jni.so"
fi
if [ ! -f "$src" ]; then
  echo "[ballista] no native library at $src: the jar will have no embedded cluster (build it with: cargo build -p ballista-jni, or make test-java)" >&2
  exit 0
fi
mkdir -p "$out"
dest="$out/libballista_jni.so"
if [ -f "$dest" ] && [ "$dest" -nt "$src" ]; then
  exit 0
fi
strip --strip-debug -o "$dest.tmp" "$src" 2>/dev/null || cp "$src" "$dest.tmp"
mv "$dest.tmp" "$dest"
echo "[ballista] packaged $src ($(du -h "$dest" | cut -f1))"
