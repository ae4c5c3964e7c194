"""What an uploaded file is by its first bytes, not its name (SPEC §14).

An upload is accepted only if its content matches its extension: a text or PHP file named
``.jpg`` is refused, and so is a PNG named ``.jpg`` (the file would be served, processed and
listed as a JPEG). RAW files are checked by their container: most are TIFF-based (CR2, NEF,
ARW, DNG, and ORF/RW2 with their own TIFF variants), RAF has Fujifilm's header and CR3 is an
ISO base media file with the ``crx`` brand. ``.raw`` takes any of the RAW containers.
Phase One's IIQ is TIFF or its own ``IIII…Raw `` header, Sigma's X3F starts with ``FOVb``,
Leica's RWL is Panasonic's RW2. AVIF is an ISO base media file with the ``avif``/``avis``
brand; JPEG XL is a bare codestream (``FF 0A``) or its box container.
"""

from __future__ import annotations

HEAD_BYTES = 64

TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF
ORF_MAGICS = (b"IIRO", b"IIRS", b"MMOR")
RW2_MAGICS = (b"IIU\x00",)
RAF_MAGIC = b"FUJIFILMCCD-RAW"
HEIF_BRANDS = frozenset({b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1"})
CR3_BRANDS = frozenset({b"crx "})
AVIF_BRANDS = frozenset({b"avif", b"avis"})
JXL_MAGICS = (b"\xff\x0a", b"\x00\x00\x00\x0cJXL \r\n\x87\n")
X3F_MAGIC = b"FOVb"


def _ftyp_brand(head: bytes) -> bytes | None:
    """The major brand of an ISO base media file (HEIC, CR3), or ``None``."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        return head[8:12]
    return None


def content_kind(head: bytes) -> str | None:
    """The format the bytes start with, as a short name; ``None`` when unknown."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(RAF_MAGIC):
        return "raf"
    if head.startswith(ORF_MAGICS):
        return "orf"
    if head.startswith(RW2_MAGICS):
        return "rw2"
    if head.startswith(TIFF_MAGICS):
        return "tiff"
    if head[:4] in (b"IIII", b"MMMM") and head[8:12] == b"Raw ":
        return "iiq"
    if head.startswith(X3F_MAGIC):
        return "x3f"
    if head.startswith(JXL_MAGICS):
        return "jxl"
    brand = _ftyp_brand(head)
    if brand in HEIF_BRANDS:
        return "heif"
    if brand in AVIF_BRANDS:
        return "avif"
    if brand in CR3_BRANDS:
        return "cr3"
    return None


# The contents each extension may hold. TIFF-based RAW formats are TIFF containers.
TIFF_RAW = frozenset({"tiff"})
EXPECTED: dict[str, frozenset[str]] = {
    "jpg": frozenset({"jpeg"}),
    "jpeg": frozenset({"jpeg"}),
    "png": frozenset({"png"}),
    "webp": frozenset({"webp"}),
    "heic": frozenset({"heif"}),
    "heif": frozenset({"heif"}),
    "hif": frozenset({"heif"}),
    "avif": frozenset({"avif"}),
    "jxl": frozenset({"jxl"}),
    "tif": TIFF_RAW,
    "tiff": TIFF_RAW,
    "cr2": TIFF_RAW,
    "nef": TIFF_RAW,
    "arw": TIFF_RAW,
    "dng": TIFF_RAW,
    "orf": frozenset({"orf", "tiff"}),
    "rw2": frozenset({"rw2", "tiff"}),
    "raf": frozenset({"raf"}),
    "cr3": frozenset({"cr3"}),
    "raw": frozenset({"tiff", "orf", "rw2", "raf", "cr3"}),
    "iiq": frozenset({"iiq", "tiff"}),
    "3fr": TIFF_RAW,
    "fff": TIFF_RAW,
    "pef": TIFF_RAW,
    "srw": TIFF_RAW,
    "rwl": frozenset({"rw2", "tiff"}),
    "nrw": TIFF_RAW,
    "x3f": frozenset({"x3f"}),
    "gpr": TIFF_RAW,
}

DESCRIPTIONS = {
    "jpeg": "a JPEG image",
    "png": "a PNG image",
    "webp": "a WebP image",
    "heif": "a HEIC/HEIF image",
    "tiff": "a TIFF container",
    "orf": "an Olympus RAW file",
    "rw2": "a Panasonic RAW file",
    "raf": "a Fujifilm RAW file",
    "cr3": "a Canon CR3 RAW file",
    "avif": "an AVIF image",
    "jxl": "a JPEG XL image",
    "iiq": "a Phase One RAW file",
    "x3f": "a Sigma RAW file",
}


def content_problem(ext: str, head: bytes) -> str | None:
    """Why bytes starting with ``head`` may not be stored under extension ``ext``, or ``None``."""
    expected = EXPECTED.get(ext.lower())
    if expected is None:
        return None  # The extension check refuses it already.
    kind = content_kind(head)
    if kind in expected:
        return None
    wanted = " or ".join(sorted(DESCRIPTIONS[k] for k in expected))
    found = DESCRIPTIONS[kind] if kind else "not a recognised image or RAW format"
    return f"The content does not match the '.{ext}' extension: expected {wanted}, found {found}."
