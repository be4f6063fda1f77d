"""Image I/O: decode photos to float RGB in [0, 1] and write results back without losing metadata.

Everything a photographer cares about travels with the pixels: EXIF (orientation applied once, then reset
to 1), ICC profile, DPI and XMP. Pillow decodes 8-bit formats and reads all metadata; OpenCV decodes and
encodes 16-bit data (Pillow cannot hold 16-bit RGB) and encodes PNG/TIFF, whose metadata we then add
ourselves (PNG chunks, a rewritten TIFF directory). Writes are atomic and never replace an existing file
or the original photo unless asked. No torch here: the worker imports this package before any model.

The parts: `data` (ImageData, formats, sample conversions), `reading`, `raw` (camera RAW), `metadata`
(read from the source, written into the result) and `writing`. Colour: `colour_codes` (CICP codes, HDR),
`linear_light`, and `working_space` (photos in other RGB or gray spaces restored in sRGB numbers, read
through `matrix_profiles`); XMP: `xmp_packet`, `xmp_sidecar`, `xmp_attachments`, `iptc_xmp`; `provenance`
(how a result was made, in its XMP). Callers use the names below.
"""

from __future__ import annotations

from engine.filetypes import photo_digest
from engine.imaging.data import LUMA, MAX_PIXELS, ImageData, gray_copy, to_uint8, to_uint16
from engine.imaging.metadata import with_software
from engine.imaging.provenance import Provenance, made_by_hourglass, provenance_of, recorded_strength
from engine.imaging.reading import (
    photo_size,
    read_history,
    read_image,
    read_location,
    read_made_by,
    read_provenance,
    read_result_notes,
    read_small,
    reads_small_itself,
)
from engine.imaging.writing import (
    NAME_MAX,
    check_not_original,
    check_output_folder,
    check_output_name,
    check_output_size,
    extension_for,
    format_without_profile,
    format_without_transparency,
    output_format_for,
    over_white,
    same_file,
    write_image,
)

__all__ = ["LUMA", "MAX_PIXELS", "NAME_MAX", "ImageData", "Provenance", "check_not_original",
           "check_output_folder", "check_output_name", "check_output_size", "extension_for",
           "format_without_profile", "format_without_transparency", "gray_copy", "made_by_hourglass",
           "output_format_for", "over_white", "photo_digest", "photo_size", "provenance_of", "read_history",
           "read_image", "read_location", "read_made_by", "read_provenance", "read_result_notes", "read_small",
           "reads_small_itself", "recorded_strength", "same_file", "to_uint8", "to_uint16", "with_software",
           "write_image"]
