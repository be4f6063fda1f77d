#!/usr/bin/env bash
# macOS: build dist/Hourglass.app with the same spec (its BUNDLE step: Info.plist with the photo document
# types, so Finder offers "Open With > Hourglass"), optionally sign it, then make a compressed .dmg with the
# app and an /Applications link:   packaging/macos/build_dmg.sh        (on macOS; CI: macos-14, arm64)
# Env: PY (default .venv/bin/python), CODESIGN_IDENTITY ("Developer ID Application: ..."; unset = ad-hoc),
# NOTARY_PROFILE (a `xcrun notarytool store-credentials` profile; unset = not notarized).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=${PY:-.venv/bin/python}
VERSION=$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')
ARCH=$(uname -m)
APP=dist/Hourglass.app
DMG="dist/Hourglass-$VERSION-macos-$ARCH.dmg"

"$PY" -m PyInstaller --noconfirm --clean --log-level WARN --distpath dist --workpath build/pyinstaller \
    packaging/hourglass.spec
[ -x "$APP/Contents/MacOS/Hourglass" ] || { echo "no $APP" >&2; exit 1; }

# Sign inside-out with the hardened runtime; torch and PyInstaller need JIT/unsigned-memory entitlements.
IDENTITY=${CODESIGN_IDENTITY:--}
codesign --force --deep --options runtime --timestamp=none --entitlements packaging/macos/entitlements.plist \
    --sign "$IDENTITY" "$APP"
codesign --verify --deep --strict "$APP"

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
ditto "$APP" "$STAGE/Hourglass.app"  # ditto keeps the symlinks and extended attributes (never zip -r)
ln -s /Applications "$STAGE/Applications"
rm -f "$DMG"
hdiutil create -volname "Hourglass $VERSION" -srcfolder "$STAGE" -fs HFS+ -format UDZO -imagekey zlib-level=9 \
    -ov "$DMG"
if [ "$IDENTITY" != "-" ]; then
    codesign --force --sign "$IDENTITY" "$DMG"
fi
if [ -n "${NOTARY_PROFILE:-}" ]; then
    xcrun notarytool submit "$DMG" --keychain-profile "$NOTARY_PROFILE" --wait
    xcrun stapler staple "$DMG"
fi
echo "$DMG: $(du -m "$DMG" | cut -f1) MB; app $(du -sm "$APP" | cut -f1) MB"
