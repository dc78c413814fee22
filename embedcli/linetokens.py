"""How one line of text becomes tokens: Unicode normalization, the token pattern, lowercasing and
the stop-word and length filters (:func:`make_line_tokenizer`), for :mod:`embedcli.tokenizer`'s
blocks and for texts embedded one by one (:func:`line_tokenizer`)."""

from __future__ import annotations

import codecs
import os
import re
import unicodedata
from importlib import resources
from itertools import compress
from operator import not_
from typing import Iterable

from embedcli.errors import InputError, ParameterError
from embedcli.specs import DEFAULT_TOKEN_PATTERN

#: Largest stop-word file read (a bound on memory: ``--stopwords /dev/zero`` must not fill it).
MAX_STOPWORDS_BYTES = 16 << 20


def stopwords_files(spec: str | None) -> list[str]:
    """The file a ``--stopwords`` value names (``[]`` for ``none``/``english``), for output/input checks."""
    return [] if spec is None or spec == "none" or spec == "english" else [spec]


def stopwords_record(stopwords: frozenset[str]) -> dict:
    """The provenance of a stop-word list as applied: its size and the SHA-256 of its sorted words
    (one per line), so a run's record tells which list it used whatever the file's name or time."""
    import hashlib

    digest = hashlib.sha256("\n".join(sorted(stopwords)).encode("utf-8", "surrogatepass")).hexdigest()
    return {"words": len(stopwords), "sha256": digest}


def load_stopwords(spec: str | None, recorded: bool = False, normal_form: str = "nfc") -> frozenset[str]:
    """Stop words for ``--stopwords``: ``none``/None, ``english`` (bundled list) or a file path.

    A file holds one word per line (``#`` starts a comment); UTF-8 (a byte-order mark is dropped;
    the words are put in ``normal_form``, as ``tokenize --normal-form`` puts the text; the tokenizer lowercases them when it lowercases the text); a typed path may be a pipe
    (``<(...)``).  ``recorded``: the path comes from a file's metadata (a reference, a model's
    provenance), which may come from anyone: it must name a regular file (a pipe could block for
    ever, a device such as ``/dev/stdin`` read what it should not).

    Raises:
        InputError: the file does not exist, is recorded but not a regular file, or cannot be
            decoded.
    """
    if spec is None or spec == "none":
        return frozenset()
    if spec == "english":
        text = resources.files("embedcli").joinpath("data/stopwords-english.txt").read_text("utf-8")
    else:
        if recorded and os.path.exists(spec) and not os.path.isfile(spec):
            raise InputError(f"{spec}: the stop-word file recorded in the reference or model is not a regular file "
                             "(a pipe or device), and is not read")
        try:
            with open(spec, "rb") as f:
                data = f.read(MAX_STOPWORDS_BYTES + 1)
            if len(data) > MAX_STOPWORDS_BYTES:
                raise InputError(f"{spec}: a stop-word file of more than {MAX_STOPWORDS_BYTES >> 20} MB; "
                                 "is this the right file?")
            text = data.decode("utf-8")
        except FileNotFoundError:
            hint = " (the bundled list is 'english', lower case)" if spec.lower() in ("english", "none") else ""
            raise InputError(f"--stopwords {spec}: no such file{hint}") from None
        except (OSError, UnicodeDecodeError) as e:
            raise InputError(f"{spec}: cannot read stop words: {e}") from None
    text = prepare_text(text.removeprefix("\ufeff"), normal_form, "")[0]  # as the corpus is read
    return frozenset(w.strip() for w in text.splitlines() if w.strip() and not w.startswith("#"))


#: Time budget of a user token pattern on one line: this many seconds plus as many per MB of line.
REGEX_SECONDS = 2.0


def _times_out(tok, line: str) -> bool:
    try:
        tok(line)
    except TimeoutError:
        return True
    return False


_ASCII_BYTES = bytes(range(128))

#: Every ASCII character that the default pattern does not take into a token (all but letters
#: and digits) -> a space: an ASCII line's tokens are then its ``split()`` (:func:`make_line_tokenizer`).
_ASCII_NOT_WORD = str.maketrans({chr(i): " " for i in range(128) if not chr(i).isalnum()})
#: The same for UTF-8 bytes (bytes from 128 up, parts of non-ASCII characters, stay).
_ASCII_NOT_WORD_BYTES = bytes(b if b >= 128 or chr(b).isalnum() else 32 for b in range(256))


def _cut_at_ascii(line: str, by_pattern) -> list[str]:
    """The default pattern's tokens (``by_pattern``: its ``findall``) of a line holding non-ASCII
    characters, the regular expression run only where it is needed: the line is cut at the ASCII
    characters no token holds (a byte translation of its UTF-8) and at white space; a piece of
    letters and digits only (``str.isalnum``, which is the pattern's ``\\w`` without the underscore)
    is one token, and only the other pieces (holding non-ASCII punctuation, symbols or combining
    marks) go through ``by_pattern``.  No token reaches across a cut (neither the pattern's letters
    and digits nor the combining marks it keeps are ASCII punctuation or white space), so the
    tokens are the pattern's on the whole line."""
    pieces = line.encode("utf-8", "surrogatepass").translate(_ASCII_NOT_WORD_BYTES).decode(
        "utf-8", "surrogatepass").split()
    odd = [i for i in compress(range(len(pieces)), map(not_, map(str.isascii, pieces)))  # (isascii: a flag)
           if not pieces[i].isalnum()]
    if not odd:
        return pieces
    out: list[str] = []
    at = 0
    for i in odd:
        out += pieces[at:i]
        out += by_pattern(pieces[i])
        at = i + 1
    out += pieces[at:]
    return out


def make_line_tokenizer(
    lowercase: bool = True,
    token_pattern: str = DEFAULT_TOKEN_PATTERN,
    min_length: int = 1,
    stopwords: Iterable[str] = (),
    timeout: float | None = None,
    marks: str = "",
):
    """Return ``(tokenize_line, lower_after)``: ``tokenize_line(str) -> str`` of space-joined tokens.

    The default pattern gives the tokens of the line as it is, lowercased (so a word's case cannot
    change where it is cut: Turkish ``İ`` lowercases to ``i`` and a combining dot, Greek capital
    sigma to a final or medial sigma by what follows; a line holding neither is lowercased first,
    which cuts it the same way, faster).  Without filters the
    caller lowercases whole blocks (``lower_after`` is True: one ``lower()`` per block is much
    faster than one per line).  ``marks``: the combining marks (Unicode category M) the text holds
    (:func:`prepare_text`), which the default pattern then keeps inside tokens; Python's ``re``
    (fast) leaves them out of ``\\w``.  A user's pattern runs on the lowercased line, on the
    ``regex`` module (whose ``\\w`` holds the marks).

    Raises:
        ParameterError: ``token_pattern`` is not a valid regular expression, or
            ``min_length`` < 1.
    """
    if min_length < 1:
        raise ParameterError("min_length", min_length, "must be at least 1")
    token_pattern = token_pattern or DEFAULT_TOKEN_PATTERN
    default = token_pattern == DEFAULT_TOKEN_PATTERN
    if default:
        # a mark joins the letter before it; a mark with none (after a space) is no token, as before
        pat = re.compile(token_pattern if not marks else "[^\\W_](?:[^\\W_]|[" + marks + "])*")
        by_pattern = pat.findall

        def findall(line: str) -> list[str]:
            # an ASCII line (str.isascii() costs nothing): the pattern's tokens are the maximal runs
            # of ASCII letters and digits, cut out by a translation table, which on english-mix took
            # 0.58 of the regular expression's time for the same tokens (benchmarks/README.md)
            return line.translate(_ASCII_NOT_WORD).split() if line.isascii() else _cut_at_ascii(line, by_pattern)
    else:
        # a user's pattern runs on the `regex` module, whose matching can be given a time budget
        import regex

        try:
            pat = regex.compile(token_pattern)
        except (regex.error, OverflowError, RecursionError, ValueError) as e:
            raise ParameterError("token_pattern", token_pattern, f"not a valid regular expression ({e})") from None
        if pat.search("", timeout=1.0) is not None:
            raise ParameterError("token_pattern", token_pattern, "matches the empty string, which is no token "
                                 "(use + rather than *)")
        probe = pat.findall("a b\tc d\u00a0e f,g", timeout=1.0)
        if any(len(t.split()) != 1 for t in probe):
            raise ParameterError("token_pattern", token_pattern, "matches white space inside a token, but a "
                                 "tokens file separates tokens by spaces (for multi-word terms see 'embedcli phrases')")
        budget = timeout

        def findall(line: str) -> list[str]:
            if budget is None:
                return pat.findall(line)
            return pat.findall(line, timeout=budget + budget * len(line) / 1e6)
    if pat.groups:
        raise ParameterError("token_pattern", token_pattern, "use non-capturing groups (?:...)")
    stop = frozenset(stopwords)
    if lowercase:  # a stop-word list is matched against lowercased tokens
        stop = frozenset(w.lower() for w in stop)
    if default and min_length == 1 and not stop:
        def joined(line: str) -> str:
            return " ".join(findall(line))

        joined.tokens = findall  # the list, in the line's case: for callers that count the tokens too
        return joined, lowercase

    def tok(line: str) -> str:
        if lowercase and default and ("\u03a3" in line or "\u0130" in line):
            # the only characters whose lowercase depends on what follows (Greek capital sigma) or
            # holds a mark (Turkish İ): tokens first, then lowercased, as without filters
            toks = " ".join(findall(line)).lower().split(" ")  # lower() never adds a space
            toks = toks if toks != [""] else []
        else:
            toks = findall(line.lower() if lowercase else line)
        if min_length > 1 or stop:
            toks = [t for t in toks if len(t) >= min_length and t not in stop]
        return " ".join(toks)

    return tok, False


def prepare_text(text: str, normal_form: str, token_pattern: str = DEFAULT_TOKEN_PATTERN) -> tuple[str, str]:
    """``(text, marks)``: ``text`` in Unicode normal form ``normal_form`` (``nfc``, ``nfkc``;
    ``none``: as is), and, for the default token pattern, the combining marks it holds that join
    a letter (:func:`_joins_letter`; sorted, for :func:`make_line_tokenizer`; "" for ASCII text or
    another pattern)."""
    if text.isascii():
        return text, ""
    if normal_form != "none":
        text = unicodedata.normalize(normal_form.upper(), text)
    if token_pattern != DEFAULT_TOKEN_PATTERN:
        return text, ""
    # the characters beyond ASCII, from the UTF-8 bytes with every ASCII byte deleted (a multi-byte
    # character has no ASCII byte): a seventh of the time of set(text) on a 4 MB block
    others = text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
    return text, "".join(sorted(c for c in set(others) if _joins_letter(c)))


def _joins_letter(c: str) -> bool:
    """A combining mark that belongs to the letter before it (categories Mn and Mc): not an
    enclosing mark (Me: the keycap of 1️⃣) nor one of the variation selectors VS1-16 (emoji vs
    text style of a symbol), which would make tokens of emoji that the pattern otherwise drops.
    The ideographic (U+E0100-E01EF) and Mongolian ones belong to their letters."""
    return unicodedata.category(c) in ("Mn", "Mc") and not "\ufe00" <= c <= "\ufe0f"


def line_tokenizer(lowercase: bool, token_pattern: str, min_length: int, stopwords: Iterable[str],
                   normal_form: str, timeout: float | None = None, keep_marks: bool = True):
    """``tokenize(text) -> str``: one text as ``tokenize`` turns a line of a corpus into tokens
    (normal form, pattern, lowercasing, filters), for texts embedded one by one (queries).
    ``keep_marks=False`` (with ``normal_form="none"``): as embedcli before 0.3 did, for a model
    whose record predates ``normal_form`` (combining marks then cut words).

    Raises:
        ParameterError: as :func:`make_line_tokenizer`.  TimeoutError: a user pattern ran out of
            its time budget.
    """
    made: dict = {}
    stop = frozenset(stopwords)
    make_line_tokenizer(lowercase, token_pattern, min_length, stop, timeout)  # validates

    def tokenize_text(text: str) -> str:
        text, marks = prepare_text(text, normal_form, token_pattern if keep_marks else "")
        if marks not in made:
            made[marks] = make_line_tokenizer(lowercase, token_pattern, min_length, stop, timeout, marks)
        tok, lower_after = made[marks]
        out = tok(text)
        return out.lower() if lower_after else out

    return tokenize_text


def character_end(buf: bytes, encoding: str) -> int:
    """Where :func:`embedcli.fileio.iter_line_chunks` cuts a long line with no ASCII space or tab:
    the length of the longest prefix of ``buf`` that ends at a character boundary of
    ``encoding`` (``buf`` starts at one; UTF-8: at a better place, :func:`utf8_word_end`);
    ``len(buf)`` when none is found."""
    cut = len(buf)
    if codecs.lookup(encoding).name in ("utf-8", "utf-8-sig"):
        while cut > 0 and 0x80 <= buf[cut - 1] < 0xC0 and len(buf) - cut < 4:
            cut -= 1
        if cut > 0 and buf[cut - 1] >= 0xC0:
            cut -= 1  # do not split a multi-byte character
        return utf8_word_end(buf, cut) if cut > 0 else len(buf)
    try:  # another multi-byte encoding: what its decoder holds back is an unfinished character
        decoder = codecs.getincrementaldecoder(encoding)("replace")  # a bad byte is not a reason to cut anywhere
        decoder.decode(buf, final=False)
        held = len(decoder.getstate()[0])
    except (UnicodeDecodeError, LookupError, TypeError, ValueError):
        return cut
    return cut - held if cut > held else cut


def utf8_word_end(buf: bytes, cut: int) -> int:
    """A better cut than ``cut`` (a character boundary) in the last 64 kB of UTF-8 ``buf``: after
    its last white space character (a no-break or ideographic space: ASCII ones were looked
    for first), else after its last character that no token holds (punctuation such as the
    Devanagari danda), else before its last letter and that letter's marks (the next character,
    not read yet, may be one of its marks).  Undecodable bytes there: ``cut`` as it is."""
    start = max(0, cut - 65536)
    while start < cut and 0x80 <= buf[start] < 0xC0:
        start += 1
    try:
        tail = buf[start:cut].decode("utf-8")
    except UnicodeDecodeError:  # byte offsets cannot be told from the decoded text: keep the cut
        return cut
    space = re.search(r"\s(?=\S*\Z)", tail)
    if space:
        return start + len(tail[: space.end()].encode("utf-8"))
    for i in range(len(tail) - 1, 0, -1):  # else after the last character no word holds (punctuation)
        c = tail[i]
        if not c.isalnum() and unicodedata.category(c)[0] != "M":
            return start + len(tail[: i + 1].encode("utf-8"))
    back = 1  # the last letter and the marks after it go to the next piece, with any marks still unread
    while back < min(len(tail), 32) and unicodedata.category(tail[-back]) in ("Mn", "Mc"):
        back += 1
    return cut - len(tail[-back:].encode("utf-8")) if back < len(tail) else cut
