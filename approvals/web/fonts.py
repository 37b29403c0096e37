"""Whether this machine can set Chinese text in a PDF.

WeasyPrint lays text out with pango, which finds fonts through fontconfig. Without a font
covering Simplified Chinese, fontconfig falls back to one without the glyphs and every
character of a notice comes out as a box: a PDF that looks made but says nothing. So the
notice's PDF route asks fontconfig first (the same library, the same configuration, the same
FONTCONFIG_FILE) and `make run` says what to install.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools

# Debian's packages, for the message; `make run` installs them when it can
PACKAGES = "fonts-noto-cjk"
MISSING = (f"本机缺少中文字体，无法生成公示PDF（否则文字会显示为方框）。"
           f"请安装中文字体（Debian/Ubuntu：apt-get install {PACKAGES}），"
           f"或使用本页的“打印”功能。")


NO_PANGO = ("本机缺少排版组件 pango，无法生成公示PDF。请安装（Debian/Ubuntu："
            "apt-get install libpango-1.0-0 libpangoft2-1.0-0），或使用公示页面的“打印”功能。")


def problem() -> str | None:
    """What keeps this machine from making a readable notice PDF, in one Chinese sentence,
    or None. `make run` prints it at start."""
    if ctypes.util.find_library("pangoft2-1.0") is None:
        return NO_PANGO
    return None if chinese_font() else MISSING


@functools.cache
def _fontconfig() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("fontconfig")
    if name is None:
        return None
    lib = ctypes.CDLL(name)
    for fn in ("FcInitLoadConfigAndFonts", "FcNameParse", "FcObjectSetBuild", "FcFontList"):
        getattr(lib, fn).restype = ctypes.c_void_p
    lib.FcNameParse.argtypes = [ctypes.c_char_p]
    lib.FcObjectSetBuild.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    lib.FcFontList.argtypes = [ctypes.c_void_p] * 3
    for fn in ("FcConfigDestroy", "FcPatternDestroy", "FcObjectSetDestroy", "FcFontSetDestroy"):
        getattr(lib, fn).argtypes = [ctypes.c_void_p]
    return lib


def chinese_font() -> bool:
    """True when fontconfig knows a font covering Simplified Chinese (`fc-list :lang=zh-cn`).
    Read afresh each time (a font installed while the server runs counts at once); a few
    milliseconds against the PDF's hundreds."""
    fc = _fontconfig()
    if fc is None:  # no fontconfig: pango, and so the PDF, cannot work either
        return False
    config = fc.FcInitLoadConfigAndFonts()
    pattern = fc.FcNameParse(b":lang=zh-cn")
    objects = fc.FcObjectSetBuild(b"family", None)
    found = fc.FcFontList(config, pattern, objects)
    try:
        # FcFontSet begins with `int nfont`
        return bool(found) and ctypes.cast(found, ctypes.POINTER(ctypes.c_int))[0] > 0
    finally:
        if found:
            fc.FcFontSetDestroy(found)
        fc.FcObjectSetDestroy(objects)
        fc.FcPatternDestroy(pattern)
        fc.FcConfigDestroy(config)
