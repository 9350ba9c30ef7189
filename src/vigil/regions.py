"""Free-text shipping regions resolved to China's administrative divisions.

The divisions come from python-stdnum's `stdnum/cn/loc.dat` (the 6-digit GB/T 2260 codes, taken
from Wikipedia), read as data: nothing about any division is written here. The parsing and the
matching are written by hand because no library resolves free text to these codes.

How a text is read (docs/regions.md says more):

- A 6-digit code names its division directly (province, prefecture or county by its trailing
  zeros); an abolished code names its successor when that is obvious, else its parent.
- Chinese names match with or without their type suffix (广东 = 广东省, 阿克苏 = 阿克苏地区); an
  autonomous division also matches by the leading part of its name (延边, 恩施州). Whitespace,
  commas and "·" may separate names but are not needed (广东深圳). A name without its suffix
  must end the text or be followed by another name (吉隆坡 is not 吉隆县). Traditional
  characters are read as simplified. Abolished names count by their full name only, and only
  when no current name fits.
- Provinces and prefecture-level cities also match in pinyin derived with pypinyin (Shenzhen,
  guangdong shenzhen, Xi'an; Shaanxi for 陕西); Hong Kong, Macao and Taiwan also by their
  English names from ICU.
- All names found must fit one chain province > prefecture > county; the deepest division that
  fits the most of them wins. One name borne at different levels means the higher one (吉林 is
  the province, 西安 the city, not the 西安区 of Liaoyuan). Borne by several divisions of one
  level, or by names that contradict each other, the text resolves only as far as they agree:
  朝阳区 alone is unresolved, 北京朝阳区 is Beijing's, 江苏鼓楼区 only 江苏省.
- Anything else (海外, Japan, an empty text) is an unresolved Region that keeps its text.

Urban/rural is approximated from the county-level division's type: a district (区) or a
county-level city (市) is urban; a county (县), banner (旗), forestry area (林区) or special area
(特区) is rural; unknown when only the prefecture or the province is known.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib.resources import files
from itertools import islice, product
from typing import Literal

Area = Literal["urban", "rural"]

MAX_TEXT = 256  # a region is a few names; only the start of a longer text is read
MAX_TOKENS = 8  # names found beyond these are not looked at
MAX_WORDS = 4  # Latin words that may spell one name ("Hong Kong SAR China")

PROVINCE, PREFECTURE, COUNTY = 0, 1, 2
# Ranks of the ways a name can match, best first: level first, then exact before weak (a
# prefix of an autonomous name, a second pinyin reading), current before abolished.
_WEAK = 1
_ABOLISHED = 6

# Type suffixes, longest first so that 壮族自治区 is cut before 区.
_SUFFIXES = (
    "维吾尔自治区", "特别行政区", "壮族自治区", "回族自治区", "自治区", "自治州", "自治县",
    "自治旗", "地区", "新区", "林区", "特区", "省", "市", "区", "县", "旗", "盟",
)  # fmt: skip
_RURAL_SUFFIXES = ("林区", "特区", "县", "旗")
_LINE = re.compile(r'^(?:(\d\d) province="([^"]*)"|\s+(\d{4}) county="([^"]*)")\s*$')
_PART = re.compile(r"^(?:\[(\d*)-(\d*)\])?(.+)$")
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_RUN = re.compile(rf"(?P<han>[{_HAN}]+)|(?P<digits>\d+)|(?P<word>[^\W\d_{_HAN}]+)")
_CODE = re.compile(r"[0-9]{6}")

Candidates = tuple[tuple[str, int], ...]  # (division code, rank relative to the best)
Table = defaultdict[str, dict[str, int]]  # key -> division code -> best rank


@dataclass(frozen=True, slots=True)
class Region:
    """A free-text region and what it resolved to; all codes None when unresolved."""

    text: str | None
    province_code: str | None = None
    city_code: str | None = None
    county_code: str | None = None
    province: str | None = None
    city: str | None = None
    county: str | None = None
    area: Area | None = None

    @property
    def resolved(self) -> bool:
        """True when at least the province is known."""
        return self.province_code is not None

    @property
    def code(self) -> str | None:
        """The most precise code known."""
        return self.county_code or self.city_code or self.province_code


@dataclass(frozen=True, slots=True)
class Division:
    """One current division: its code, display name, level, parent code and urban/rural."""

    code: str
    name: str
    level: int
    parent: str | None
    area: Area | None


@dataclass(slots=True)
class _Entry:
    code: str
    names: list[tuple[str, bool]]  # (name, still current), oldest first
    province_line: bool = False


def _parse(text: str) -> Iterator[_Entry]:
    """The entries of loc.dat; a province line becomes an alias of its 0000 entry."""
    province = ""
    for line in text.splitlines():
        match = _LINE.match(line)
        if line.startswith("#") or not match:
            continue
        if match[1]:
            province = match[1]
            yield _Entry(province + "0000", [(match[2], True)], province_line=True)
            continue
        parts = (_PART.match(part) for part in match[4].split(","))
        yield _Entry(province + match[3], [(p[3], not p[2]) for p in parts if p])


def _level(code: str) -> int:
    return PROVINCE if code[2:] == "0000" else PREFECTURE if code[4:] == "00" else COUNTY


@cache
def _strip_suffix(name: str) -> str:
    suffix = next((s for s in _SUFFIXES if name.endswith(s)), "")
    return name[: len(name) - len(suffix)]


def _is_placeholder(name: str) -> bool:
    """市辖区, 县, 省直辖县级行政单位…: a bookkeeping entry, not a place anyone ships from."""
    return "直辖" in name or _strip_suffix(name) in ("", "市", "市辖")


def _forms(name: str) -> Iterator[tuple[str, int]]:
    """The ways a name is written, each with 0 (exact) or _WEAK."""
    yield name, 0
    short = _strip_suffix(name)
    if len(short) >= 2 and short != name:
        yield short, 0
    if "自治" in name:
        # The place comes before the peoples (黔东南苗族侗族自治州): any leading part may be it.
        body = name[: name.index("自治")]
        for end in range(2, len(body)):
            yield body[:end], _WEAK
            if name.endswith("自治州"):
                yield body[:end] + "州", _WEAK


def _area(name: str) -> Area | None:
    if name.endswith(_RURAL_SUFFIXES):
        return "rural"
    if name.endswith(("区", "市")):
        return "urban"
    return None


def _municipalities(current: dict[str, str]) -> set[str]:
    """Provinces whose prefecture-level entries are all placeholders (北京, 上海…)."""
    kinds: defaultdict[str, set[bool]] = defaultdict(set)
    for code, name in current.items():
        if _level(code) == PREFECTURE:
            kinds[code[:2]].add(_is_placeholder(name))
    return {province for province, seen in kinds.items() if seen == {True}}


class RegionIndex:
    """Divisions by code and by every way of writing their names, built from loc.dat."""

    def __init__(self, source: str) -> None:
        # Imported here, as are pypinyin and icu below: importing vigil.regions stays cheap
        # until a region is resolved, and Chinese-only texts never load pypinyin.
        import opencc

        self._t2s = opencc.OpenCC("t2s")
        self._simplified: dict[str, str] = {}
        self.divisions: dict[str, Division] = {}
        self.codes: dict[str, str] = {}  # any code in the data -> the division it names
        self._paths: dict[str, tuple[str, ...]] = {}  # code, parent, grandparent
        self._han: Table = defaultdict(dict)
        self._forms_at: defaultdict[tuple[str, int, str], set[str]] = defaultdict(set)
        self._unnamed: set[str] = set()  # the city level of municipalities (北京市市辖区)
        entries = list(_parse(source))
        self._add_current(entries)
        for entry in entries:
            self._add_history(entry)
        self.han: dict[str, Candidates] = _ranked(self._han)
        self._han_span = max(map(len, self.han), default=2)
        self._bare = frozenset(key for key in self.han if _strip_suffix(key) == key)
        self._latin_keys: dict[str, Candidates] | None = None

    def _add_current(self, entries: list[_Entry]) -> None:
        current = {e.code: e.names[-1][0] for e in entries if e.names and e.names[-1][1]}
        # 香港特別行政區 on the province line, 香港特别行政区 on its 0000 line: both are names.
        province_aliases = {e.code: e.names[0][0] for e in entries if e.province_line}
        municipalities = _municipalities(current)
        for code in sorted(current, key=lambda c: (_level(c), c)):  # parents first
            name, level, province = current[code], _level(code), code[:2] + "0000"
            if level != PROVINCE and province not in self.divisions:
                continue
            if _is_placeholder(name):
                if level == PREFECTURE and code[:2] in municipalities:
                    city = self.divisions[province].name
                    self._add(Division(code, city, PREFECTURE, province, None), names=False)
                continue
            parent = None if level == PROVINCE else province
            if level == COUNTY and code[:4] + "00" in self.divisions:
                parent = code[:4] + "00"
            # A few names are in traditional characters (加格達奇區), which their type suffix
            # shows; converting every name would turn 乾安县 into 干安县.
            shown = self._simple(name) if self._simple(name[-1]) != name[-1] else name
            area = _area(shown) if level == COUNTY else None
            self._add(Division(code, shown, level, parent, area), names=True)
            alias = province_aliases.get(code)
            if alias and alias != name:
                self._add_names(alias, code, level)

    def _add(self, division: Division, *, names: bool) -> None:
        self.divisions[division.code] = division
        self.codes[division.code] = division.code
        parent = self._paths.get(division.parent or "", ())
        self._paths[division.code] = (division.code, *parent)
        if not names:
            self._unnamed.add(division.code)
            return
        for form, _ in _forms(self._simple(division.name)):
            self._forms_at[(division.code[:2], division.level, form)].add(division.code)
        self._add_names(division.name, division.code, division.level)

    def _add_names(self, name: str, code: str, level: int) -> None:
        for form, weak in _forms(self._simple(name)):
            rank = 2 * level + weak
            _put(self._han, form, code, rank)

    def _add_history(self, entry: _Entry) -> None:
        """Old names and codes lead to their successor when obvious, else to their parent."""
        level = _level(entry.code)
        for name, is_current in entry.names:
            if is_current or _is_placeholder(name):
                continue
            target = self._successor(entry.code, name, level)
            if target:  # by its full name only: 北市 (of 北市区) is too likely a fragment
                rank = _ABOLISHED + 2 * self.divisions[target].level
                _put(self._han, self._simple(name), target, rank)
        if entry.code not in self.codes:
            name = entry.names[-1][0] if entry.names else ""
            target = self._successor(entry.code, name, level)
            if target:
                self.codes[entry.code] = target

    def _successor(self, code: str, name: str, level: int) -> str | None:
        if code in self.divisions:  # renamed in place: 上埗区办事处 is now 福田区
            return code
        if not _is_placeholder(name):
            stem = _strip_suffix(self._simple(name))
            heirs = self._forms_at.get((code[:2], level, stem), set())
            if len(heirs) == 1:  # 宝安县 became 宝安区
                return next(iter(heirs))
        for parent in (code[:4] + "00", code[:2] + "0000"):
            if parent != code and parent in self.divisions:
                return parent
        return None

    @property
    def latin(self) -> dict[str, Candidates]:
        """Pinyin and English spellings, built the first time a Latin word is looked up."""
        if self._latin_keys is None:
            table: Table = defaultdict(dict)  # filled aside: another thread may be reading
            self._add_pinyin(table)
            self._add_english(table)
            self._latin_keys = _ranked(table)
        return self._latin_keys

    def _add_pinyin(self, table: Table) -> None:
        # Imported here: pypinyin takes a noticeable time to load its dictionaries.
        from pypinyin import Style, lazy_pinyin, pinyin

        tones: defaultdict[str, dict[str, list[str]]] = defaultdict(dict)
        for division in self.divisions.values():
            if division.level == COUNTY or division.code in self._unnamed:
                continue  # counties share too many spellings
            name = self._simple(division.name)
            # Every form but 延边州 is a leading part of the name: spell the name once.
            spelled = lazy_pinyin(name, v_to_u=True)
            readings = pinyin(name, style=Style.NORMAL, heteronym=True)
            for form, weak in _forms(name):
                if not name.startswith(form):
                    continue
                rank, size = 2 * division.level + weak, len(form)
                _put(table, _latin_key("".join(spelled[:size])), division.code, rank)
                for reading in islice(product(*readings[:size]), 16):
                    _put(table, _latin_key("".join(reading)), division.code, rank + _WEAK - weak)
                if division.level == PROVINCE:
                    syllables = lazy_pinyin(form, style=Style.TONE3, neutral_tone_with_five=True)
                    tones[_latin_key("".join(spelled[:size]))][division.code] = syllables
        for key, spellings in tones.items():
            for code, marked in _tone_marked(spellings).items():
                if marked != key:
                    table[marked][code] = table[key].pop(code)

    def _add_english(self, table: Table) -> None:
        """English names of the regions ICU names in Chinese as one of ours (Hong Kong…)."""
        import icu  # imported here for the same reason as pypinyin

        chinese, english = icu.Locale("zh"), icu.Locale("en")
        short = icu.LocaleDisplayNames.createInstance(english, [icu.UDisplayContext.LENGTH_SHORT])
        provinces = {
            form: d.code
            for d in self.divisions.values()
            if d.level == PROVINCE
            for form, weak in _forms(self._simple(d.name))
            if not weak
        }
        for region in icu.Locale.getISOCountries():
            locale = icu.Locale("", region)
            name = self._simple(str(locale.getDisplayCountry(chinese)))
            code = next((c for form, c in provinces.items() if name.endswith(form)), None)
            if code:
                _put(table, _latin_key(str(locale.getDisplayCountry(english))), code, 0)
                _put(table, _latin_key(str(short.regionDisplayName(region))), code, 0)

    def _simple(self, text: str) -> str:
        simple = self._simplified.get(text)
        if simple is None:
            simple = self._simplified[text] = str(self._t2s.convert(text))
        return simple

    def resolve(self, text: str) -> Region:
        """The Region a free text names (see the module docstring)."""
        tokens = list(islice(self._tokens(text[:MAX_TEXT]), MAX_TOKENS))
        code = self._best(tokens)
        return self.region(code, text) if code else Region(text)

    def region(self, code: str, text: str | None) -> Region:
        """The Region of a current division's code."""
        path = [self.divisions[c] for c in self._paths[code]]
        by_level = {d.level: d for d in path}
        province, city, county = (by_level.get(level) for level in (PROVINCE, PREFECTURE, COUNTY))
        return Region(
            text=text,
            province_code=province.code if province else None,
            city_code=city.code if city else None,
            county_code=county.code if county else None,
            province=province.name if province else None,
            city=city.name if city else None,
            county=county.name if county else None,
            area=county.area if county else None,
        )

    def _tokens(self, text: str) -> Iterator[Candidates]:
        folded = unicodedata.normalize("NFKC", text).casefold()
        words: list[str] = []
        for run in _RUN.finditer(folded):
            if run["word"]:
                words.append(_latin_key(run["word"]))
                continue
            if words:
                yield from _segment(words, self.latin, MAX_WORDS, frozenset())
                words = []
            if run["han"]:
                han = str(self._t2s.convert(run["han"]))  # not memoised: texts are unbounded
                yield from _segment(han, self.han, self._han_span, self._bare)
            elif _CODE.fullmatch(run["digits"]) and run["digits"] in self.codes:
                yield ((self.codes[run["digits"]], 0),)
        if words:
            yield from _segment(words, self.latin, MAX_WORDS, frozenset())

    def _best(self, tokens: Sequence[Candidates]) -> str | None:
        """The deepest division that fits the most names, or where the best ones agree."""
        scores: dict[str, tuple[int, int]] = {}
        for code in {code for token in tokens for code, _ in token}:
            path = self._paths[code]
            fits = [min((r for c, r in token if c in path), default=None) for token in tokens]
            ranks = [r for r in fits if r is not None]
            scores[code] = (len(ranks), -sum(ranks))
        if not scores:
            return None
        top = max(scores.values())
        best = [code for code, score in scores.items() if score == top]
        deepest = max(best, key=lambda c: len(self._paths[c]))
        common = [c for c in self._paths[deepest] if all(c in self._paths[b] for b in best)]
        return common[0] if common else None


def _latin_key(text: str) -> str:
    marked = unicodedata.normalize("NFKD", text)  # ü is u + a mark, the mark goes
    return re.sub(r"[^a-z]", "", marked.casefold())


def _tone_marked(spellings: dict[str, list[str]]) -> dict[str, str]:
    """Provinces spelled alike tell themselves apart as 陕西 (Shaanxi) does from 山西 (Shanxi):
    the official spelling doubles the vowel of a third-tone syllable where their tones differ.
    """
    columns = list(zip(*spellings.values(), strict=False))
    if len(spellings) < 2 or any(len(s) != len(columns) for s in spellings.values()):
        return {}
    differ = {i for i, column in enumerate(columns) if len(set(column)) > 1}
    return {
        code: _latin_key(
            "".join(
                re.sub("([aeiouü])", r"\1\1", s, count=1) if i in differ and "3" in s else s
                for i, s in enumerate(syllables)
            )
        )
        for code, syllables in spellings.items()
    }


def _put(table: Table, key: str, code: str, rank: int) -> None:
    """Record that key may name the division code, keeping the best rank."""
    if key:
        codes = table[key]
        codes[code] = min(rank, codes.get(code, rank))


def _ranked(table: Table) -> dict[str, Candidates]:
    """Each key's candidates with ranks relative to its best one."""
    ranked = {}
    for key, codes in table.items():
        if codes:
            low = min(codes.values())
            ranked[key] = tuple((c, r - low) for c, r in codes.items())
    return ranked


def _segment(
    units: Sequence[str], keys: dict[str, Candidates], span: int, bare: frozenset[str]
) -> list[Candidates]:
    """Cut units (characters or words) into known names, covering as many units as possible
    with as few names as possible (青岛市南区 is 青岛 + 市南区, not 青岛市 + 南区). A bare name
    (one without its type suffix) must end the text or be followed by a name, so that 吉隆坡
    (Kuala Lumpur) is not 吉隆县."""
    n = len(units)
    # Right to left: best[i] scores the best cut of units[i:] as (units covered, -names),
    # step[i] is where it goes next and the name it took there, if any.
    best: list[tuple[int, int]] = [(0, 0)] * (n + 1)
    step: list[tuple[int, Candidates | None]] = [(n, None)] * (n + 1)
    name_at = [True] * (n + 1)  # a name starts here (or the text ends)
    for i in range(n - 1, -1, -1):
        best[i], step[i], name_at[i] = best[i + 1], (i + 1, None), False
        for j in range(i + 1, min(n, i + span) + 1):
            piece = units[i:j] if isinstance(units, str) else "".join(units[i:j])
            found = keys.get(piece)
            if found:
                name_at[i] = True
                covered, names = best[j]
                if (covered + j - i, names - 1) > best[i] and (name_at[j] or piece not in bare):
                    best[i], step[i] = (covered + j - i, names - 1), (j, found)
    tokens, i = [], 0
    while i < n:
        i, found = step[i]
        if found:
            tokens.append(found)
    return tokens


@lru_cache(maxsize=1)
def region_index() -> RegionIndex:
    """The index over python-stdnum's division list, built once."""
    source = files("stdnum.cn").joinpath("loc.dat").read_text(encoding="utf-8")
    return RegionIndex(source)


@lru_cache(maxsize=16384)
def resolve_region(text: str | None) -> Region:
    """Resolve a free-text region to China's divisions; never raises on any text."""
    if text is None:
        return Region(None)
    return region_index().resolve(text.strip())


def province_name(code: str) -> str | None:
    """The name of the province a 6-digit code belongs to (its first two digits)."""
    if not _CODE.fullmatch(code):
        return None
    province = region_index().divisions.get(code[:2] + "0000")
    return province.name if province else None


def area_of(code: str) -> Area | None:
    """Urban or rural for the county-level division a code names, None when not known."""
    target = region_index().codes.get(code)
    return region_index().divisions[target].area if target else None
