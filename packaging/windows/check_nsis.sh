#!/usr/bin/env bash
# Prove the NSIS script compiles, here on Linux, against a placeholder payload (a real payload needs a
# Windows PyInstaller build: see .github/workflows/package.yml). Output: dist/Hourglass-<v>-setup-PLACEHOLDER.exe
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
command -v makensis > /dev/null || { echo "makensis not found: apt-get install nsis" >&2; exit 1; }
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
WORK=build/nsis
rm -rf "$WORK" && mkdir -p "$WORK/payload/_internal/resources" dist
printf 'placeholder: not a Windows program\r\n' > "$WORK/payload/Hourglass.exe"
cp -r resources/icons "$WORK/payload/_internal/resources/"
"$PY" packaging/windows/make_ico.py resources/icons "$WORK/hourglass.ico"
OUT="dist/Hourglass-$VERSION-setup-PLACEHOLDER.exe"
makensis -V2 -DVERSION="$VERSION" -DSRCDIR="$PWD/$WORK/payload" -DOUTFILE="$PWD/$OUT" \
    -DICON="$PWD/$WORK/hourglass.ico" -DLICENSE_FILE="$PWD/LICENSE" packaging/windows/hourglass.nsi
file "$OUT"
echo "NSIS script compiled: $OUT ($(du -k "$OUT" | cut -f1) KB)"
