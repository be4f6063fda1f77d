#!/usr/bin/env bash
# Build the Linux one-folder bundle dist/hourglass/ with PyInstaller, then check it.
#   packaging/build_linux.sh            (PY=.venv/bin/python by default; `make bundle` / `make package` call it)
# Writes dist/hourglass/ (the app), dist/hourglass-bundle-report.json (glibc floor, xcb check, system
# libraries), dist/hourglass.deb-fields (Depends/Recommends for the .deb) and dist/hourglass-build.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
DIST=${DIST:-dist}
WORK=${WORK:-build/pyinstaller}
BUNDLE="$DIST/hourglass"
mkdir -p build "$DIST"

t0=$(date +%s)
echo "== host check: the libraries Qt's xcb plugin needs must be on the build host to be bundled"
"$PY" packaging/check_bundle.py --host-qt

echo "== PyInstaller (one folder; about 3 min on 2 cores; log in build/pyinstaller.log)"
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath "$DIST" --workpath "$WORK" \
    packaging/hourglass.spec > build/pyinstaller.log 2>&1 || { tail -40 build/pyinstaller.log; exit 1; }
grep -E "WARNING: Library not found" build/pyinstaller.log | sed 's/^[0-9]* //' || true
t1=$(date +%s)

echo "== strip torch's own libraries (a global strip breaks the patchelf'd wheel libraries)"
before=$(du -sm "$BUNDLE" | cut -f1)
for f in "$BUNDLE"/_internal/torch/lib/libtorch_cpu.so "$BUNDLE"/_internal/torch/lib/libtorch_python.so \
         "$BUNDLE"/_internal/torch/lib/libc10.so; do
    if [ -f "$f" ]; then strip --strip-unneeded "$f"; fi
done
# never ship bytecode caches or anything the build left behind; files world-readable, nothing group/other-writable
find "$BUNDLE" -name __pycache__ -type d -prune -exec rm -rf {} +
chmod -R u+rwX,go+rX,go-w "$BUNDLE"

echo "== third-party notices for the system libraries copied from this host"
"$PY" packaging/notices.py system-libs "$BUNDLE"

echo "== bundle check (glibc floor, Qt xcb plugin, system libraries)"
"$PY" packaging/check_bundle.py "$BUNDLE" --json "$DIST/hourglass-bundle-report.json" \
    --deb-fields "$DIST/hourglass.deb-fields"
t2=$(date +%s)

size=$(du -sm "$BUNDLE" | cut -f1)
{
    echo "built:        $(date -u +%Y-%m-%dT%H:%M:%SZ) on $(. /etc/os-release && echo "$PRETTY_NAME"), $(nproc) cores"
    echo "pyinstaller:  $((t1 - t0)) s; total with strip and checks: $((t2 - t0)) s"
    echo "bundle size:  ${size} MB (du; ${before} MB before strip)"
    echo "glibc floor:  $("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["glibc_min"])' "$DIST/hourglass-bundle-report.json")"
} | tee "$DIST/hourglass-build.txt"
