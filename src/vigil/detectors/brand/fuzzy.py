"""Words a small edit distance away from a registered brand name: Samsnug, Huawel."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import combinations

from rapidfuzz.distance import OSA

# Past this many remembered words the memo starts over: it bounds memory on endless scans.
_MEMO_LIMIT = 200_000


@dataclass(frozen=True, slots=True)
class Typo:
    word: str
    alias: int
    distance: int


def _deletions(word: str, depth: int) -> set[str]:
    """`word` and every string made from it by deleting up to `depth` characters."""
    found = {word}
    for count in range(1, min(depth, len(word) - 1) + 1):
        for cut in combinations(range(len(word)), count):
            found.add("".join(c for i, c in enumerate(word) if i not in cut))
    return found


class TypoIndex:
    """Finds the registered name a word misspells, within the distance its length allows.
    Two-word names ("new balance") are compared with pairs of words, their first word exact.

    Candidates come from a deletion neighbourhood (the symmetric-delete idea): every name is
    stored under each string its deletions of up to k characters make, and a word looks up its
    own deletions. Two strings within edit distance k share such a deletion, so a word meets
    only names it may be close to, in a few dictionary look-ups, however many brands there are.
    rapidfuzz then verifies each candidate (optimal string alignment: a transposition counts as
    one edit). It is written here because rapidfuzz's own search (`process.extract`) scores a
    word against every name, and no symmetric-delete library is among our dependencies.

    Most words of most listings are ordinary words; the index remembers the words it found to
    be no one's misspelling, so that a scan looks each one up once (the memo changes speed,
    never answers, and is not pickled).
    """

    def __init__(
        self,
        names: Mapping[str, int],
        *,
        distance_1_from: int,
        distance_2_from: int,
        ignore: Iterable[str],
        exact: Iterable[str],
    ) -> None:
        self._names: list[tuple[str, int, int]] = []
        self._neighbours: dict[str, list[int]] = {}
        self._distance_2_from = distance_2_from
        for name, alias in names.items():
            allowed = (
                2 if len(name) >= distance_2_from else 1 if len(name) >= distance_1_from else 0
            )
            if not allowed:
                continue
            index = len(self._names)
            self._names.append((name, alias, allowed))
            for deletion in _deletions(name, allowed):
                self._neighbours.setdefault(deletion, []).append(index)
        lengths = [len(name) for name, _, _ in self._names]
        self._shortest = min(lengths, default=0) - 2
        self._longest = max(lengths, default=0) + 2
        self._skip = frozenset(w.casefold() for w in ignore) | frozenset(exact)
        self._memo_clean: set[bytes] = set()
        self._memo_found: dict[bytes, Typo] = {}

    @property
    def shortest_word(self) -> int:
        return max(self._shortest, 1)

    @property
    def longest_word(self) -> int:
        return max(self._longest, 1)

    def __bool__(self) -> bool:
        return bool(self._names)

    def find(self, words: Iterable[bytes]) -> list[Typo]:
        """The misspelled names among `words` (lower-case ASCII words), in no special order."""
        unknown = set(words).difference(self._memo_clean)
        if not unknown:
            return []
        found: list[Typo] = []
        for word in unknown:
            typo = self._memo_found.get(word)
            if typo is None:
                typo = self._look_up(word.decode("ascii"))
                if typo is None:
                    if len(self._memo_clean) >= _MEMO_LIMIT:
                        self._memo_clean.clear()
                    self._memo_clean.add(word)
                    continue
                if len(self._memo_found) >= _MEMO_LIMIT:
                    self._memo_found.clear()
                self._memo_found[word] = typo
            found.append(typo)
        return found

    def _look_up(self, word: str) -> Typo | None:
        if word in self._skip or not self._shortest <= len(word) <= self._longest:
            return None
        depth = 2 if len(word) >= self._distance_2_from - 2 else 1
        candidates: set[int] = set()
        for deletion in _deletions(word, depth):
            candidates.update(self._neighbours.get(deletion, ()))
        best: Typo | None = None
        for index in sorted(candidates):
            name, alias, allowed = self._names[index]
            if word == name + "s":
                continue  # a plural, not a misspelling
            if " " in name and word.split(" ", 1)[0] != name.split(" ", 1)[0]:
                continue  # "few balance" is no New Balance: a two-word name keeps its first
            distance = OSA.distance(word, name, score_cutoff=allowed)
            if 0 < distance <= allowed and (best is None or distance < best.distance):
                best = Typo(word, alias, distance)
        return best

    def __getstate__(self) -> dict[str, object]:
        return {**self.__dict__, "_memo_clean": set(), "_memo_found": {}}

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
