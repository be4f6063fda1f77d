#!/usr/bin/env bash
# Wrap the one-folder bundle in a Debian package.
#   packaging/build_deb.sh [BUNDLE=dist/hourglass] [OUTDIR=dist]
# Env: DEB_COMPRESSION=zstd (default; fast, needs dpkg >= 1.21.18: Debian 12, Ubuntu >= 21.10) or xz (smaller,
# ~4 min on 2 cores, readable by any dpkg: use it for releases); DEB_VERSION (default: pyproject's version);
# DEB_MAINTAINER, DEB_HOMEPAGE (placeholders below until the project has a public address).
# Layout: /opt/hourglass (the bundle), /usr/bin/hourglass (launcher), desktop entry with MIME types,
# hicolor icons, /usr/share/doc/hourglass/copyright. Depends/Recommends come from check_bundle.py.
set -euo pipefail
cd "$(dirname "$0")/.."
BUNDLE=$(readlink -f "${1:-dist/hourglass}")
OUT=${2:-dist}
PKG=hourglass
APPDIR=/opt/$PKG
Z=${DEB_COMPRESSION:-zstd}
PY=${PY:-.venv/bin/python}
VERSION=${DEB_VERSION:-$("$PY" -c 'import tomllib; print(tomllib.load(open("pyproject.toml","rb"))["project"]["version"])')}
MAINTAINER=${DEB_MAINTAINER:-Hourglass maintainers <hourglass@example.org>}
HOMEPAGE=${DEB_HOMEPAGE:-https://example.org/hourglass}
ARCH=$(dpkg --print-architecture)
FIELDS="$(dirname "$BUNDLE")/hourglass.deb-fields"

[ -x "$BUNDLE/$PKG" ] || { echo "no bundle at $BUNDLE (run packaging/build_linux.sh first)" >&2; exit 1; }
if [ ! -f "$FIELDS" ]; then
    "$PY" packaging/check_bundle.py "$BUNDLE" --deb-fields "$FIELDS" > /dev/null
fi

STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
chmod 0755 "$STAGE"  # mktemp gives 0700: the package's "./" entry would be drwx------
mkdir -p "$STAGE/DEBIAN" "$STAGE$APPDIR" "$STAGE/usr/bin" "$STAGE/usr/share/applications" \
         "$STAGE/usr/share/doc/$PKG"
cp -a "$BUNDLE/." "$STAGE$APPDIR/"  # -a keeps the symlinks PyInstaller puts in _internal/

# /usr/bin/hourglass: a tiny script (the bundle's executable must run from its own folder)
cat > "$STAGE/usr/bin/$PKG" <<SH
#!/bin/sh
exec $APPDIR/$PKG "\$@"
SH
chmod 0755 "$STAGE/usr/bin/$PKG"

# icons: the hicolor sizes we have, plus the scalable SVG
for size in 16 32 48 128; do
    install -Dm0644 "resources/icons/hourglass-$size.png" \
        "$STAGE/usr/share/icons/hicolor/${size}x${size}/apps/$PKG.png"
done
install -Dm0644 resources/icons/hourglass.png "$STAGE/usr/share/icons/hicolor/256x256/apps/$PKG.png"
install -Dm0644 resources/icons/hourglass.svg "$STAGE/usr/share/icons/hicolor/scalable/apps/$PKG.svg"

# "Open with Hourglass" for photos: the formats the engine reads (JPEG, PNG, TIFF, WebP, BMP, HEIC/HEIF, AVIF, RAW)
MIME="image/jpeg;image/png;image/tiff;image/webp;image/bmp;image/heic;image/heif;image/avif;image/x-adobe-dng;"
MIME+="image/x-canon-cr2;image/x-canon-cr3;image/x-canon-crw;image/x-nikon-nef;image/x-nikon-nrw;"
MIME+="image/x-sony-arw;image/x-sony-sr2;image/x-sony-srf;image/x-fuji-raf;image/x-olympus-orf;"
MIME+="image/x-panasonic-rw2;image/x-panasonic-rw;image/x-pentax-pef;image/x-minolta-mrw;image/x-kodak-dcr;"
MIME+="image/x-kodak-kdc;image/x-dcraw;"
cat > "$STAGE/usr/share/applications/$PKG.desktop" <<DESK
[Desktop Entry]
Type=Application
Version=1.4
Name=Hourglass
GenericName=Photo Restoration
Comment=Restore low-light, hazy, rainy, snowy and blurred photos on your own computer
Exec=$PKG %F
TryExec=$PKG
Icon=$PKG
Terminal=false
StartupNotify=true
StartupWMClass=Hourglass
Categories=Graphics;Photography;
Keywords=photo;restore;restoration;low-light;haze;rain;snow;blur;denoise;
MimeType=$MIME
DESK
if command -v desktop-file-validate > /dev/null; then
    desktop-file-validate "$STAGE/usr/share/applications/$PKG.desktop"
fi

cat > "$STAGE/usr/share/doc/$PKG/copyright" <<COPY
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: Hourglass
Source: $HOMEPAGE

Files: *
Copyright: The Hourglass authors
License: MIT
 See $APPDIR/_internal/licenses/LICENSE-Hourglass.txt. The bundled Python, Qt/PySide6 (LGPL-3.0), PyTorch
 and other components keep their own licences: $APPDIR/_internal/licenses/THIRD-PARTY-NOTICES.txt.
COPY
chmod 0644 "$STAGE/usr/share/doc/$PKG/copyright"

# maintainer scripts: refresh the desktop and icon caches where the tools exist (dpkg triggers usually do it
# too); on remove/purge make sure nothing is left in $APPDIR
cat > "$STAGE/DEBIAN/postinst" <<'SH'
#!/bin/sh
set -e
if [ "$1" = "configure" ]; then
    if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true; fi
fi
exit 0
SH
cat > "$STAGE/DEBIAN/postrm" <<SH
#!/bin/sh
set -e
case "\$1" in
    remove|purge)
        # the app writes nothing here; this only clears what another tool may have left
        rm -rf $APPDIR
        if command -v update-desktop-database >/dev/null 2>&1; then update-desktop-database -q /usr/share/applications || true; fi
        if command -v gtk-update-icon-cache >/dev/null 2>&1; then gtk-update-icon-cache -q -t -f /usr/share/icons/hicolor || true; fi
        ;;
esac
exit 0
SH
chmod 0755 "$STAGE/DEBIAN/postinst" "$STAGE/DEBIAN/postrm"

SIZE_KB=$(du -sk --exclude=DEBIAN "$STAGE" | cut -f1)
{
    echo "Package: $PKG"
    echo "Version: $VERSION"
    echo "Architecture: $ARCH"
    echo "Maintainer: $MAINTAINER"
    echo "Installed-Size: $SIZE_KB"
    cat "$FIELDS"
    echo "Section: graphics"
    echo "Priority: optional"
    echo "Homepage: $HOMEPAGE"
    echo "Description: restore low-light, hazy, rainy, snowy and blurred photos"
    echo " Hourglass restores photos on your own computer with DiffUIR, one diffusion"
    echo " network for five degradations (low light, haze, rain, snow, blur), on the"
    echo " CPU. Nothing is uploaded and nothing is downloaded. Self-contained: it ships"
    echo " its own Python, Qt (PySide6) and PyTorch (CPU build) in $APPDIR."
} > "$STAGE/DEBIAN/control"

mkdir -p "$OUT"
DEB="$OUT/${PKG}_${VERSION}_${ARCH}.deb"
t0=$(date +%s)
dpkg-deb --root-owner-group -Z"$Z" --build "$STAGE" "$DEB" > /dev/null
t1=$(date +%s)
echo "== $DEB: $(du -m "$DEB" | cut -f1) MB ($Z, $((t1 - t0)) s), installed size $((SIZE_KB / 1024)) MB"
dpkg-deb --field "$DEB" Package Version Architecture Installed-Size Depends Recommends
