"""One table of languages: names, ISO 639-1 codes and NLLB/FLORES-200 codes.

Used wherever a user names a language (``target=French``, ``language=de``): translation
prompts and model codes, the language of meeting minutes, sentence splitting.
"""

from __future__ import annotations

from typing import NamedTuple, Optional


class Language(NamedTuple):
    name: str  # English name, capitalised: "French"
    iso: str  # ISO 639-1: "fr"
    nllb: str  # NLLB / FLORES-200: "fra_Latn"


_TABLE = {
    "afrikaans": ("af", "afr_Latn"),
    "arabic": ("ar", "arb_Arab"),
    "bengali": ("bn", "ben_Beng"),
    "bulgarian": ("bg", "bul_Cyrl"),
    "catalan": ("ca", "cat_Latn"),
    "chinese": ("zh", "zho_Hans"),
    "croatian": ("hr", "hrv_Latn"),
    "czech": ("cs", "ces_Latn"),
    "danish": ("da", "dan_Latn"),
    "dutch": ("nl", "nld_Latn"),
    "english": ("en", "eng_Latn"),
    "estonian": ("et", "est_Latn"),
    "finnish": ("fi", "fin_Latn"),
    "french": ("fr", "fra_Latn"),
    "german": ("de", "deu_Latn"),
    "greek": ("el", "ell_Grek"),
    "hebrew": ("he", "heb_Hebr"),
    "hindi": ("hi", "hin_Deva"),
    "hungarian": ("hu", "hun_Latn"),
    "icelandic": ("is", "isl_Latn"),
    "indonesian": ("id", "ind_Latn"),
    "irish": ("ga", "gle_Latn"),
    "italian": ("it", "ita_Latn"),
    "japanese": ("ja", "jpn_Jpan"),
    "korean": ("ko", "kor_Hang"),
    "latvian": ("lv", "lvs_Latn"),
    "lithuanian": ("lt", "lit_Latn"),
    "malay": ("ms", "zsm_Latn"),
    "norwegian": ("no", "nob_Latn"),
    "persian": ("fa", "pes_Arab"),
    "polish": ("pl", "pol_Latn"),
    "portuguese": ("pt", "por_Latn"),
    "romanian": ("ro", "ron_Latn"),
    "russian": ("ru", "rus_Cyrl"),
    "serbian": ("sr", "srp_Cyrl"),
    "slovak": ("sk", "slk_Latn"),
    "slovenian": ("sl", "slv_Latn"),
    "spanish": ("es", "spa_Latn"),
    "swahili": ("sw", "swh_Latn"),
    "swedish": ("sv", "swe_Latn"),
    "tagalog": ("tl", "tgl_Latn"),
    "tamil": ("ta", "tam_Taml"),
    "thai": ("th", "tha_Thai"),
    "turkish": ("tr", "tur_Latn"),
    "ukrainian": ("uk", "ukr_Cyrl"),
    "urdu": ("ur", "urd_Arab"),
    "vietnamese": ("vi", "vie_Latn"),
    "welsh": ("cy", "cym_Latn"),
}
_ALIASES = {"farsi": "persian", "mandarin": "chinese", "bokmal": "norwegian", "filipino": "tagalog"}
LANGUAGES = {key: Language(key.capitalize(), iso, nllb) for key, (iso, nllb) in _TABLE.items()}


def find(value: Optional[str]) -> Optional[Language]:
    """The language a name (``French``), an ISO code (``fr``) or an NLLB code (``fra_Latn``, ``fra``)
    names; None when the table does not know it."""
    key = str(value or "").strip().lower()
    key = _ALIASES.get(key, key)
    if key in LANGUAGES:
        return LANGUAGES[key]
    for lang in LANGUAGES.values():
        if key in (lang.iso, lang.nllb.lower(), lang.nllb.split("_")[0].lower()):
            return lang
    return None


def name_of(value: Optional[str]) -> str:
    """A name for a prompt: ``fr`` / ``fra_Latn`` / ``french`` → ``French``; others as given."""
    lang = find(value)
    return lang.name if lang else str(value or "").strip()


def iso_of(value: Optional[str], default: str = "en") -> str:
    """The ISO 639-1 code of a language given by name or code; a code the table does not know
    passes through (``eu``); ``default`` for an empty or unknown name."""
    lang = find(value)
    if lang:
        return lang.iso
    code = str(value or "").strip().lower()
    return code if 2 <= len(code) <= 3 and code.isalpha() else default
