"""Which files are photos, by name: shared by the engine's reader, the CLI's folder scan and the GUI's scan.

Standard library only, so the GUI may import it (like engine.protocol): the two scans agree on what a
photo is without keeping copies of these lists.
"""

from __future__ import annotations

import hashlib
import os
import re
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import NamedTuple

from engine.errors import ErrorCode
from engine.wording import count

# Camera RAW formats LibRaw (through rawpy) develops. Not Sigma's X3F: LibRaw dropped it in 0.20.
RAW_EXTENSIONS = frozenset({
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".ori", ".rw2",
    ".raw", ".rwl", ".pef", ".srw", ".3fr", ".fff", ".iiq", ".mos", ".mef", ".mrw", ".erf", ".dcr", ".kdc",
})
# HEIF stills: phones' .heic, and .hif, as Canon's, Sony's, Fujifilm's and Nikon's cameras name their HEIF photos
HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})
# The formats Hourglass reads through Pillow or OpenCV (HEIF through pillow-heif).
PHOTO_EXTENSIONS = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp", ".bmp", ".avif",
}) | HEIF_EXTENSIONS | RAW_EXTENSIONS
# What a camera shooting "RAW+JPEG" (or RAW+HEIF) writes beside each RAW, under the same name: one shot twice.
COMPANION_EXTENSIONS = frozenset({".jpg", ".jpeg"}) | HEIF_EXTENSIONS
# Which file of such a pair a scan takes (in a folder, or among files named together): the RAW (its sensor
# data holds more in the shadows and highlights), the camera's JPEG, or both.
PAIR_CHOICES = ("raw", "jpeg", "both")
RESTORED_DIR = "restored"  # the default output folder beside each photo (app and CLI); never searched for photos
# Images Hourglass cannot open. A folder scan counts them and says so; other files found beside photos
# (sidecars, videos, documents) are passed over without a word.
OTHER_IMAGE_EXTENSIONS = frozenset({
    ".gif", ".jp2", ".j2k", ".jpf", ".jpx", ".jxl", ".jxr", ".wdp", ".hdp", ".psd", ".psb", ".xcf", ".kra",
    ".exr", ".hdr", ".tga", ".ico", ".svg", ".pbm", ".pgm", ".ppm", ".pnm", ".qoi", ".dds", ".x3f",
})


# Model weight files (`engine.checkpoints` reads them): dropped on the window, they go to the Models dialog.
MODEL_EXTENSIONS = (".pt", ".pth", ".ckpt", ".safetensors", ".bin")


def is_model_file(path: str | Path) -> bool:
    return Path(path).suffix.lower() in MODEL_EXTENSIONS


def archived_models(path: str | Path) -> list[str] | None:
    """The model files in a zip archive that is not itself a PyTorch file (one is a zip too), by their names
    in it: Google Drive and OneDrive hand a shared folder (the official checkpoints are shared as folders)
    over as a zip. None for any other file; macOS's resource forks (`__MACOSX/`, `._name`) are left out."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = [n for n in archive.namelist() if not n.endswith("/") and not n.startswith("__MACOSX/")]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):  # (damaged: "zip version 9")
        return None
    if any(n.endswith("data.pkl") for n in names):
        return None
    return [n for n in names if is_model_file(n) and not Path(n).name.startswith("._")]


AVIF_BRANDS = frozenset({b"avif", b"avis"})  # ISO media brands of AVIF stills and sequences (Pillow reads
# these itself; pillow-heif the other HEIF brands)


def iso_media_brand(head: bytes) -> bytes | None:
    """The brand of an ISO media file (HEIC, AVIF) from its first 12 bytes, whatever its name says; None
    for any other file."""
    return head[8:12] if head[4:8] == b"ftyp" else None


def is_photo(path: str | Path) -> bool:
    return Path(path).suffix.lower() in PHOTO_EXTENSIONS


def is_other_image(path: str | Path) -> bool:
    """An image file Hourglass cannot open (a GIF, a Photoshop file, JPEG XL ...): worth telling the user."""
    return Path(path).suffix.lower() in OTHER_IMAGE_EXTENSIONS


ARCHIVE_EXTENSIONS = frozenset({".zip", ".7z", ".rar", ".tar", ".gz", ".tgz", ".xz", ".bz2"})


def describe_passed_over(paths: Iterable[str | Path]) -> str:
    """'3 files Hourglass cannot open (2 GIF, 1 PSD)', for the images a scan passed over; '' for none. An
    archive (a photo download or export often comes zipped) gets a word on what to do."""
    paths = list(paths)
    kinds = Counter(Path(p).suffix.lower().lstrip(".").upper() or "no extension" for p in paths)
    total = sum(kinds.values())
    if not total:
        return ""
    listed = ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items(), key=lambda kv: (-kv[1], kv[0])))
    archives = any(Path(p).suffix.lower() in ARCHIVE_EXTENSIONS for p in paths)
    hint = "; extract the photos of an archive first" if archives else ""
    return f"{count(total, 'file')} Hourglass cannot open ({listed}{hint})"


def describe_unreadable(paths: Iterable[str | Path]) -> str:
    """'2 links to missing files, 1 pipe or device named as photos', for the entries named as images that a
    folder scan passed over because no file stands behind them ('' for none): a folder of links to an
    unmounted drive must not just come back as "no supported photos"."""
    paths = list(paths)
    links = sum(1 for p in paths if os.path.islink(p) and not os.path.exists(p))
    others = len(paths) - links
    parts = []
    if links:
        parts.append(f"{links} link to a missing file" if links == 1 else f"{links} links to missing files")
    if others:
        parts.append(f"{others} pipe or device" if others == 1 else f"{others} pipes or devices")
    return ", ".join(parts) + " named as photos" if parts else ""


def default_output_extension(photo: str | Path) -> str:
    """The extension of a photo's result in the same format: RAW becomes a TIFF (there is no RAW writer) and
    HEIF a JPEG (engine.imaging.output_format_for says why); any other photo keeps its own."""
    suffix = Path(photo).suffix
    if suffix.lower() in RAW_EXTENSIONS:
        return ".tif"
    if suffix.lower() in HEIF_EXTENSIONS:
        return ".jpg"
    return suffix


def file_stamp(path: str | os.PathLike[str]) -> list[int] | None:
    """[size, mtime in ns] of a file, None when it cannot be read: what changes when a file is edited,
    replaced or still being written, as `make` and `rsync` judge it, without reading the file."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns]


def photo_digest(path: str | os.PathLike[str]) -> str:
    """The SHA-256 of the photo's file, which a result records: a result found later is known to be this
    photo's (not another IMG_0001.JPG's, nor of the photo before it was edited), and a photo whose time alone
    changed is not taken for an edited one (the app). ~40 ms for 24 MB."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def settled(stamps: dict[Path, list[int] | None],
            before: dict[Path, list[int] | None]) -> tuple[list[Path], dict[Path, list[int] | None]]:
    """A watched folder's new files that are whole: those whose stamp (`file_stamp`, just taken) is the one
    they had at the look before (a file still being written changes between looks). Returns them, and the
    stamps of the others, to compare with at the next look."""
    whole = [f for f, stamp in stamps.items() if stamp is not None and before.get(f) == stamp]
    taken = set(whole)
    return whole, {f: stamp for f, stamp in stamps.items() if f not in taken}


def numbered_name(path: Path, taken: Callable[[Path], bool]) -> Path:
    """`path`, or the first `stem (n).ext` not `taken`: how the app names a result beside an earlier one
    (taken: on disk) and the CLI two photos that would make one file (taken: by this run)."""
    candidate, n = path, 0
    while taken(candidate):
        n += 1
        candidate = path.with_name(f"{path.stem} ({n}){path.suffix}")
    return candidate


NAME_REFUSED = '/\\<>:"|?*'  # folder separators, and what Windows refuses in a file name


def clean_suffix(text: str) -> str:
    """A name suffix ("photo{suffix}.jpg") as it can be used: without folder separators (it could send
    results anywhere), what Windows refuses in a name, or control characters, and not only dots ("" then).
    The app's Settings store this; the CLI refuses a suffix that is not already clean."""
    suffix = "".join(c for c in str(text) if c not in NAME_REFUSED and ord(c) >= 32)
    return suffix if suffix.strip(".") else ""


def natural_key(name: str) -> tuple:
    """File names as people (and file managers) count them: IMG_2 before IMG_10, case ignored, a name before
    the longer ones it begins (photo.jpg, photo2.jpg, "photo (2).jpg": the name is compared before its
    extension); names equal that way (IMG.jpg, img.jpg; 1.jpg, 01.jpg) in their plain order, so the order
    never depends on the disk."""
    stem, ext = os.path.splitext(name)
    return _natural_parts(stem), _natural_parts(ext), name


def _natural_parts(text: str) -> tuple:
    return tuple((0, int(part), "") if part.isdigit() else (1, 0, part)
                 for part in re.split(r"(\d+)", text.casefold()) if part)


class FolderScan(NamedTuple):
    photos: list[Path]  # to restore, in natural order
    others: list[Path]  # images Hourglass cannot open
    paired: list[Path]  # the other file of a RAW+JPEG pair, passed over (see PAIR_CHOICES)
    unreadable: list[Path]  # named as images but no file to read: links to nothing, pipes, devices


def folder_photos(folder: Path, skip_dir: Callable[[Path], bool] = lambda _: False,
                  result_suffix: str = "", pairs: str = "raw") -> FolderScan:
    """The photos in `folder` and below, folders and names in natural order.

    Hidden entries (macOS's `._IMG_0001.JPG` companions, `.thumbnails`), the folders `skip_dir` names (an
    output folder inside the input) and, with a `result_suffix`, files whose name ends with it (results saved
    beside their photos) are passed over: restoring a folder again must not restore its results. Only regular
    files are taken (not a link to a missing file, nor a pipe, which would wait for a writer). Of a RAW
    and a JPEG or HEIF of the same name in one folder (a camera's RAW+JPEG), `pairs` says which is taken.
    """
    if pairs not in PAIR_CHOICES:
        raise ValueError(f"pairs must be one of {', '.join(PAIR_CHOICES)}, not {pairs!r}")
    scan = FolderScan([], [], [], [])
    for dirpath, dirnames, filenames in os.walk(folder):
        here = Path(dirpath)
        dirnames[:] = sorted((d for d in dirnames if not d.startswith(".") and not skip_dir(here / d)),
                             key=natural_key)
        photos = []
        for name in sorted(filenames, key=natural_key):
            f = here / name
            if name.startswith(".") or (result_suffix and f.stem.endswith(result_suffix)):
                continue
            photo = is_photo(f)
            if not (photo or is_other_image(f)):
                continue
            if f.is_file():
                (photos if photo else scan.others).append(f)
            else:  # a link to a missing file (an unmounted drive), or a pipe, which would wait for a writer
                scan.unreadable.append(f)
        passed = set(shot_companions(photos, pairs))
        scan.photos.extend(f for f in photos if f not in passed)
        scan.paired.extend(f for f in photos if f in passed)
    return scan


def shot_companions(photos: Iterable[Path], pairs: str = "raw") -> list[Path]:
    """Of `photos`, the files a RAW+JPEG camera wrote for a shot whose other file is taken instead: the
    JPEGs/HEIFs named as a RAW in the same folder (`pairs="raw"`), or those RAWs (`"jpeg"`); none for "both"."""
    if pairs == "both":
        return []
    by_shot: dict[tuple[str, str], list[Path]] = {}
    for f in photos:
        by_shot.setdefault((os.path.normcase(str(f.parent)), f.stem.casefold()), []).append(f)
    passed = []
    for files in by_shot.values():
        raws = [f for f in files if f.suffix.lower() in RAW_EXTENSIONS]
        companions = [f for f in files if f.suffix.lower() in COMPANION_EXTENSIONS]
        if raws and companions:
            passed += companions if pairs == "raw" else raws
    return passed


def named_companions(paths: Iterable[Path], pairs: str = "raw") -> set[Path]:
    """`shot_companions` of the photo files among `paths` named together (a whole card selected in a file
    dialog, or given to the CLI), paired as a folder's photos are."""
    return set(shot_companions((p for p in paths if is_photo(p) and p.is_file()), pairs))


def companion_of(raw: Path) -> Path | None:
    """The JPEG/HEIF a RAW+JPEG camera wrote beside this RAW, if it is there: what to offer when the RAW
    cannot be read (LibRaw lags behind the newest cameras) and the pair rule passed the JPEG over."""
    if raw.suffix.lower() not in RAW_EXTENSIONS:
        return None
    try:
        names = sorted(os.listdir(raw.parent), key=natural_key)
    except OSError:
        return None
    stem = raw.stem.casefold()
    return next((raw.parent / n for n in names if os.path.splitext(n)[0].casefold() == stem
                 and os.path.splitext(n)[1].lower() in COMPANION_EXTENSIONS), None)


def passed_over_companion(raw: Path, pairs: str, error_code: str | None) -> Path | None:
    """For a RAW that failed because it could not be read: its camera JPEG, when the pair rule (`pairs`)
    passed that JPEG over, so the failure can say how to restore the shot after all; else None."""
    if pairs != "raw" or error_code not in (ErrorCode.INPUT_UNREADABLE, ErrorCode.UNSUPPORTED_INPUT):
        return None
    return companion_of(raw)


def describe_paired(paired: list[Path], pairs: str) -> str:
    """'12 JPEG/HEIF files that have a RAW of the same name' for a scan's summary ('' when none)."""
    if not paired:
        return ""
    kept, passed = ("RAW", "JPEG/HEIF") if pairs == "raw" else ("JPEG/HEIF", "RAW")
    has = "has" if len(paired) == 1 else "have"
    return f"{count(len(paired), passed + ' file')} that {has} a {kept} of the same name"

