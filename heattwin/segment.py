"""Chinese text as search terms, for the knowledge base (``store.knowledge``).

Text is cut by jieba (search mode, with the heating trade's words added to a private dictionary) and,
for recall when jieba cuts a phrase differently from how a caller says it, into the overlapping
two-character pieces of every run of Chinese characters (the classic CJK bigram index). ASCII words
and numbers (``12345``, ``app``) are terms as they are, lower-cased.

A query keeps, for each term, the positions of the characters it covers: a search counts how much of
what the caller said an entry covers, so a word and its own bigrams are not counted twice. Words that
carry no meaning in a question (怎么, 如何, 请问 …) are left out of a query unless nothing else is left;
a few synonyms (供暖/供热/采暖, 暖气费/采暖费 …) stand in for each other.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from dataclasses import dataclass

# Words jieba's own dictionary cuts apart (放气 → 放/气) or does not know.
TRADE_WORDS = (
    "暖气片", "散热器", "地暖", "放气", "放水", "排气", "排气阀", "跑风", "放风", "开栓", "关栓", "报停", "停暖",
    "停供", "复供", "测温", "退费", "热费", "采暖费", "供暖费", "取暖费", "暖气费", "基础热费", "供暖期", "采暖期",
    "分户计量", "热计量", "热表", "换热站", "入户阀", "过滤器", "跑冒滴漏", "室温", "不热", "不达标", "开户",
    "过户", "销户", "供热管家", "温控阀", "回水", "供水", "失水", "补水", "冻裂", "电子发票", "增值税发票",
)
# Question words and fillers: no entry is found because a caller said 怎么办.
STOPWORDS = frozenset((
    "怎么", "怎么办", "怎样", "如何", "什么", "为什么", "为啥", "咋", "咋办", "哪里", "哪儿", "多少", "几",
    "吗", "呢", "吧", "啊", "呀", "了", "的", "地", "得", "是", "有", "在", "和", "与", "及", "或", "就",
    "都", "也", "还", "要", "想", "能", "能否", "可以", "可不可以", "需要", "请问", "问", "问一下", "一下",
    "我", "我家", "我们", "家", "家里", "你们", "您", "请", "这", "那", "这个", "那个", "一个", "办", "办法",
))
# Terms that mean the same thing to a caller; each stands in for the others in a query.
SYNONYMS = (
    ("供暖", "供热", "采暖", "取暖"),
    ("暖气费", "采暖费", "供暖费", "取暖费", "热费"),
    ("暖气片", "散热器"),
    ("漏水", "跑水", "渗水", "滴水"),
    ("放气", "排气", "跑风", "放风"),
    ("报停", "停供", "停暖"),
    ("开栓", "复供"),
    ("不热", "不达标", "很凉", "冰凉"),
    ("缴费", "交费", "付费"),
    ("平米", "平方米", "平方"),
)
_SYNONYM_OF = {word: group for group in SYNONYMS for word in group}
_CJK_RUN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_ASCII_WORD = re.compile(r"[0-9a-z]+")
_KEEP = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff0-9a-z]+")


@dataclass(frozen=True)
class QueryTerm:
    """A term of a query and the positions (in ``Query.key``) of the characters it covers."""

    term: str
    positions: tuple[int, ...]


@dataclass(frozen=True)
class Query:
    """A query as the search uses it: its key (``normalize``d) and its terms."""

    key: str
    terms: tuple[QueryTerm, ...]

    @property
    def length(self) -> int:
        """How many characters of the key the terms can cover (the denominator of a coverage)."""
        return len({p for t in self.terms for p in t.positions})


_TOKENIZER = None
_LOCK = threading.Lock()


def _tokenizer():
    """jieba's tokenizer with the trade's words, built once (its dictionary takes about a second to load)."""
    global _TOKENIZER
    with _LOCK:
        if _TOKENIZER is None:
            import jieba

            jieba.setLogLevel(logging.WARNING)
            tokenizer = jieba.Tokenizer()
            for word in TRADE_WORDS:
                tokenizer.add_word(word, freq=20000)
            tokenizer.initialize()
            _TOKENIZER = tokenizer
    return _TOKENIZER


def warm_up() -> None:
    """Load the dictionary now (a server calls this at start, so the first search is not the slow one)."""
    _tokenizer()


def normalize(text: str) -> str:
    """Full-width forms folded (NFKC), lower case, only Chinese characters, letters and digits kept."""
    return "".join(_KEEP.findall(unicodedata.normalize("NFKC", text or "").lower()))


def _bigrams(text: str):
    """(bigram, start) of every run of Chinese characters in ``text``."""
    for run in _CJK_RUN.finditer(text):
        for k in range(run.start(), run.end() - 1):
            yield text[k:k + 2], k


def _words(key: str):
    """(word, start) as jieba's search mode cuts ``key``: each word, and the shorter words inside long ones."""
    start = 0
    for word in _tokenizer().cut(key, HMM=True):
        yield word, start
        if len(word) > 2:
            for inner in range(len(word) - 1):
                for size in (2, 3):
                    piece = word[inner:inner + size]
                    if len(piece) == size < len(word) and _tokenizer().FREQ.get(piece):
                        yield piece, start + inner
        start += len(word)


def index_terms(text: str) -> list[str]:
    """Every term an entry's text is found by: jieba's words, the Chinese bigrams, ASCII words."""
    key = normalize(text)
    terms = {word for word, _ in _words(key)}
    terms.update(bigram for bigram, _ in _bigrams(key))
    terms.update(_ASCII_WORD.findall(key))
    return sorted(t for t in terms if t)


def query_terms(text: str) -> Query:
    """The terms a search looks for, each with the characters of the query it covers."""
    key = normalize(text)
    words = list(_words(key))
    stopped = {p for w, s in words if w in STOPWORDS for p in range(s, s + len(w))}
    found: dict[str, set[int]] = {}
    candidates = [*words, *_bigrams(key)]
    for term, start in candidates:
        span = set(range(start, start + len(term)))
        if not span & stopped and term not in STOPWORDS:
            found.setdefault(term, set()).update(span)
    if not found:  # a query of question words only: look for them after all
        for term, start in candidates:
            found.setdefault(term, set()).update(range(start, start + len(term)))
    for term, positions in list(found.items()):
        for other in _SYNONYM_OF.get(term, ()):
            found.setdefault(other, set()).update(positions)
    return Query(key, tuple(QueryTerm(t, tuple(sorted(p))) for t, p in sorted(found.items())))
