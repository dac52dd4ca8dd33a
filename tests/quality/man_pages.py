#!/usr/bin/python3
# man_pages.py: the machine's own man pages as a known-item corpus
#
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# A module, not a program: retrieval.py (the quality suites) reads pages
# through it. Each sampled page of section 1
# becomes one document (its text without the NAME section); the one-line
# description from its NAME section ("list directory contents" for ls)
# becomes a query whose only right answer is that page. The troff is
# turned into text here, with the man and mdoc macros and the named
# characters and strings of man pages as Debian ships them.

import gzip
import hashlib
import os
import re

SKIP = 77
NAMESPACE = "manpages"
MIN_PAGES = 50
MIN_TEXT_CHARS = 200
MIN_DESCRIPTION_WORDS = 3

# ---- troff to text ----

# Named characters (\(xx, \[xx], \C'xx') as plain ASCII; unknown ones vanish.
SPECIAL_CHARS = {
    "em": "-", "en": "-", "hy": "-", "mi": "-", "-": "-", "pl": "+", "mu": "x",
    "di": "/", "eq": "=", "aq": "'", "dq": '"', "lq": '"', "rq": '"', "oq": "'",
    "cq": "'", "Bq": '"', "bq": ",", "Fo": "<<", "Fc": ">>", "fo": "<", "fc": ">",
    "bu": "*", "co": "(c)", "rg": "(R)", "tm": "(TM)", "ga": "`", "ha": "^",
    "ti": "~", "a~": "~", "rs": "\\", "sl": "/", "ba": "|", "br": "|", "or": "|",
    "lt": "<", "gt": ">", "la": "<", "ra": ">", "<-": "<-", "->": "->",
    "<=": "<=", ">=": ">=", "!=": "!=", "==": "==", "ua": "^", "da": "v",
    "de": " degrees", "dg": "+", "sc": "S", "ps": "P", "ct": "c", "Eu": "EUR",
    "eu": "EUR", "Po": "GBP", "at": "@", "sh": "#", "Do": "$", "ul": "_",
    "ru": "_", "sq": "*", "ci": "o", "ss": "ss", "ff": "ff", "fi": "fi",
    "fl": "fl", "Fi": "ffi", "Fl": "ffl", "12": "1/2", "14": "1/4", "34": "3/4",
    "+-": "+-", "pc": ".", "ap": "~", "~~": "~", "aa": "'", "'": "'", "`": "`",
    ":a": "a", ":o": "o", ":u": "u", ":A": "A", ":O": "O", ":U": "U",
    "'e": "e", "`e": "e", "'a": "a", "`a": "a", "^e": "e", ",c": "c",
}

# Predefined strings (\*x, \*(xx, \*[xx]): those of man, mdoc and the
# Pod::Man preamble (nroff branch); unknown ones vanish.
STRINGS = {
    "R": "(R)", "Tm": "(TM)", "lq": '"', "rq": '"', "L\"": '"', "R\"": '"',
    "C`": '"', "C'": '"', "Aq": "'", "--": "--", "PI": "pi", "C+": "C++",
    "q": '"', "Ba": "|", "Ne": "!=", "Ge": ">=", "Le": "<=", "Gt": ">",
    "Lt": "<", "Pm": "+-", "If": "infinity", "Na": "NaN", "Pi": "pi",
}

# Escapes that take a delimited argument: \h'...' and friends. Dropped.
DELIMITED = set("hvwoXNDlLbZARSxH")
# Escapes that take one name (\nx, \n(xx, \n[xx]) and leave nothing.
NAMED = set("nkgmMFVY$")


def _read_name(s, i):
    """Reads a troff name at s[i]: x, (xx or [name]. Returns (name, next)."""
    if i >= len(s):
        return "", i
    if s[i] == "(":
        return s[i + 1:i + 3], i + 3
    if s[i] == "[":
        end = s.find("]", i + 1)
        if end < 0:
            return s[i + 1:], len(s)
        return s[i + 1:end], end + 1
    return s[i], i + 1


def _special(name):
    if name in SPECIAL_CHARS:
        return SPECIAL_CHARS[name]
    if name.startswith("u") and len(name) >= 5:     # \[u2014]
        try:
            return chr(int(name[1:].split("_")[0], 16))
        except ValueError:
            return ""
    if len(name) == 1:
        return name
    return ""


def unescape(s):
    """Turns one line's troff escapes into plain text."""
    out = []
    i = 0
    n = len(s)
    while i < n:
        c = s[i]
        if c != "\\":
            out.append(c)
            i += 1
            continue
        if i + 1 >= n:          # a trailing backslash joins lines
            break
        e = s[i + 1]
        i += 2
        if e in "\"#":          # comment to the end of the line
            break
        if e == "f":            # font: \fB \fI \fR \fP \f(CW \f[CW] \f1
            _, i = _read_name(s, i)
        elif e == "s":          # size: \s0 \s-1 \s+2 \s(12 \s[12] \s'12'
            if i < n and s[i] in "+-":
                i += 1
            if i < n and s[i] in "(['":
                if s[i] == "'":
                    end = s.find("'", i + 1)
                    i = n if end < 0 else end + 1
                else:
                    _, i = _read_name(s, i)
            else:
                while i < n and s[i].isdigit():
                    i += 1
        elif e == "*":          # string
            name, i = _read_name(s, i)
            out.append(STRINGS.get(name, ""))
        elif e == "(" or e == "[":
            name, i = _read_name(s, i - 1)
            out.append(_special(name))
        elif e == "C":          # \C'name'
            if i < n:
                end = s.find(s[i], i + 1)
                end = n if end < 0 else end
                out.append(_special(s[i + 1:end]))
                i = end + 1
        elif e in DELIMITED:
            if i < n:
                end = s.find(s[i], i + 1)
                i = n if end < 0 else end + 1
        elif e in NAMED:
            if i < n and s[i] in "+-" and e == "n":
                i += 1
            _, i = _read_name(s, i)
        elif e in "zk":         # zero-width next char / mark
            i += 1 if e == "k" else 0
        elif e in "e\\E":
            out.append("\\")
        elif e in " ~0":
            out.append(" ")
        elif e == "-":
            out.append("-")
        elif e in "'`.":
            out.append("'" if e == "'" else e)
        elif e == "t":
            out.append(" ")
        elif e in "&)|^,/%:cdurpa{}!?":
            pass                # zero-width or layout only
        else:
            out.append(e)
    return "".join(out)


def split_args(rest):
    """Splits a request's arguments the troff way (double quotes group)."""
    args = []
    i = 0
    n = len(rest)
    while i < n:
        while i < n and rest[i] in " \t":
            i += 1
        if i >= n:
            break
        if rest[i] == '"':
            i += 1
            buf = []
            while i < n:
                if rest[i] == '"':
                    if i + 1 < n and rest[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                if rest[i] == "\\" and i + 1 < n:
                    buf.append(rest[i:i + 2])
                    i += 2
                    continue
                buf.append(rest[i])
                i += 1
            args.append("".join(buf))
        else:
            start = i
            while i < n and rest[i] not in " \t":
                if rest[i] == "\\" and i + 1 < n:
                    i += 1
                i += 1
            args.append(rest[start:i])
    return args


# man(7) macros whose arguments are text: joined with spaces, or (the
# alternating-font ones) with nothing.
SPACED = {"B", "I", "SM", "SB", "IP", "TH", "SY", "OP", "UR", "UE", "MT", "ME", "TQ"}
ALTERNATING = {"BR", "BI", "IB", "IR", "RB", "RI"}
HEADINGS = {"SH", "SS", "Sh", "Ss"}
BREAKS = {"PP", "P", "LP", "TP", "HP", "IP", "sp", "Pp", "Lp", "Bl", "El", "Bd", "Ed",
          "It", "Dl", "EX", "EE", "nf", "fi", "RS", "RE", "br", "YS"}
# mdoc(7) macros that produce nothing of their own when called on a line.
MDOC_SILENT = {"Ar", "Cm", "Ic", "Pa", "Va", "Ev", "Er", "Em", "Sy", "Li", "Ql", "Dq",
               "Sq", "Pq", "Op", "Oo", "Oc", "Ns", "No", "Xr", "Nm", "Nd", "Fn", "Fa",
               "Ft", "Fd", "Dv", "An", "Lk", "Mt", "Ad", "Cd", "Ms", "Tn", "St", "Bx",
               "Ux", "At", "Ox", "Nx", "Fx", "Bsx", "Dx", "Xo", "Xc", "Aq", "Bq", "Brq",
               "Qq", "Ta", "Pf", "Vt", "Ot", "Sx", "Ap", "Dl", "D1", "It", "Ss", "Sh",
               "Dt", "Lb", "Rv", "Ex", "Eo", "Ec", "Do", "Dc", "So", "Sc", "Po", "Pc",
               "Bo", "Bc", "Qo", "Qc", "In", "Sm"}
MDOC_DROP = {"Dd", "Os", "Bl", "El", "Bd", "Ed", "Ek", "Bk", "Pp", "Lp", "Sm", "Rs", "Re"}


def mdoc_text(args):
    """The text of an mdoc line: callable macro names go, each Fl adds a dash."""
    words = []
    dashes = 0
    glue = False
    for arg in args:
        if arg == "Fl":
            dashes += 1
            continue
        if arg == "Ns":
            glue = True
            continue
        if arg in MDOC_SILENT:
            continue
        text = "-" * dashes + unescape(arg)
        dashes = 0
        if glue and words:
            words[-1] += text
        else:
            words.append(text)
        glue = False
    if dashes:
        words.append("-" * dashes)
    return " ".join(words)


def troff_to_sections(source):
    """Turns a man page's troff source into [(heading, text), ...].

    Text before the first heading has the heading "". Paragraphs are
    separated by blank lines; lines of a paragraph are joined.
    """
    sections = [["", []]]
    paragraph = []
    lines = source.splitlines()
    started = False
    skip_until = None
    brace_depth = 0
    mdoc_name = None
    i = 0

    def flush():
        if paragraph:
            text = " ".join(" ".join(paragraph).split())
            if text:
                sections[-1][1].append(text)
            paragraph.clear()

    while i < len(lines):
        line = lines[i]
        i += 1

        if skip_until is not None:          # inside .de/.ig
            if line.strip() == skip_until:
                skip_until = None
            continue
        if brace_depth > 0:                 # inside a multi-line conditional
            brace_depth += line.count("\\{") - line.count("\\}")
            continue

        if line.startswith((".", "'")):
            body = line[1:].lstrip(" \t")
            if body.startswith(('\\"', "\\#")) or body == "" or body.startswith("\\}"):
                continue
            name_end = 0
            while name_end < len(body) and body[name_end] not in " \t":
                name_end += 1
            name = body[:name_end]
            rest = body[name_end:]

            # Macro definitions and ignored blocks, until "..".
            if name in ("de", "de1", "am", "am1", "ig", "dei", "ami"):
                skip_until = ".."
                continue
            # Conditionals: dropped, with any \{ ... \} block.
            if name in ("if", "ie", "el", "while"):
                brace_depth = max(0, line.count("\\{") - line.count("\\}"))
                continue
            # Preambles (Pod::Man, help2man) end at the title.
            if name in ("TH", "Dt", "Dd"):
                started = True
            if not started:
                continue

            if name in HEADINGS:
                flush()
                heading = " ".join(unescape(a) for a in split_args(rest)).strip()
                if not heading and i < len(lines):      # heading on the next line
                    heading = unescape(lines[i]).strip()
                    i += 1
                sections.append([heading, []])
                continue
            if name in ALTERNATING:
                paragraph.append("".join(unescape(a) for a in split_args(rest)))
                continue
            if name in ("TH", "Dt"):
                flush()
                paragraph.append(" ".join(unescape(a) for a in split_args(rest)))
                flush()
                continue
            if name in BREAKS:
                flush()
                if name == "IP" or name == "It" or name == "Dl":
                    text = (mdoc_text(split_args(rest)) if name != "IP"
                            else unescape(split_args(rest)[0]) if split_args(rest) else "")
                    if text.strip():
                        paragraph.append(text)
                continue
            if name in SPACED:
                paragraph.append(" ".join(unescape(a) for a in split_args(rest)))
                continue
            if name in MDOC_DROP:
                flush()
                continue
            if name == "Nm":                        # mdoc: a bare .Nm repeats the name
                args = split_args(rest)
                if args and mdoc_name is None:
                    mdoc_name = unescape(args[0])
                paragraph.append(mdoc_text(["Nm"] + args) if args else (mdoc_name or ""))
                continue
            if name == "Nd":                        # mdoc's "name - description"
                paragraph.append("- " + mdoc_text(split_args(rest)))
                continue
            if len(name) in (2, 3) and name[:1].isupper() and name[1:].islower():
                # Any other mdoc-style macro: its words.
                paragraph.append(mdoc_text([name] + split_args(rest)))
                continue
            # Every other request (ft, ne, PD, ad, so, IX, nr, ds, ...) says
            # nothing readable.
            continue

        if not started:
            continue
        if line.strip() == "":
            flush()
            continue
        paragraph.append(unescape(line))

    flush()
    return [(h, "\n\n".join(p)) for h, p in sections if h or p]


SEPARATOR = re.compile(r"\s+(?:-{1,2}|\u2014|\u2013)\s+")


def parse_page(source):
    """Returns (description, document text) of a man page, or None."""
    sections = troff_to_sections(source)
    name_text = None
    body = []
    for heading, text in sections:
        if name_text is None and heading.strip().strip('"').upper() == "NAME":
            name_text = " ".join(text.split())
            continue
        body.append(f"{heading}\n\n{text}" if heading else text)
    if not name_text:
        return None
    parts = SEPARATOR.split(name_text, maxsplit=1)
    if len(parts) != 2:
        return None
    description = parts[1].strip().rstrip(".").strip()
    return description, "\n\n".join(b for b in body if b.strip())


def read_source(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read(4 * 1024 * 1024)
    return data.decode("utf-8", errors="replace")


def list_pages(man_dir, exclude=None):
    try:
        names = os.listdir(man_dir)
    except OSError:
        return []
    pattern = re.compile(exclude) if exclude else None
    return sorted(n for n in names if n.endswith((".1", ".1.gz"))
                  and not (pattern and pattern.search(n)))


def sample_pages(man_dir, count, exclude=None, log=None):
    """Every k-th page (k = pages / count) that is usable; when some are
    not, further passes start one name later, until `count` are found."""
    names = list_pages(man_dir, exclude)
    if not names:
        return names, []
    stride = max(1, len(names) // count)
    chosen = []
    seen_paths = set()
    seen_descriptions = set()
    seen_texts = set()
    rejected = {}

    def reject(reason):
        rejected[reason] = rejected.get(reason, 0) + 1

    for offset in range(stride):
        for index in range(offset, len(names), stride):
            if len(chosen) >= count:
                break
            path = os.path.join(man_dir, names[index])
            real = os.path.realpath(path)
            if real in seen_paths:
                reject("same file as another page")
                continue
            seen_paths.add(real)
            try:
                parsed = parse_page(read_source(path))
            except (OSError, EOFError, gzip.BadGzipFile) as e:
                reject(f"unreadable ({type(e).__name__})")
                continue
            if parsed is None:
                reject("no NAME description")
                continue
            description, text = parsed
            key = " ".join(description.lower().split())
            if len(description.split()) < MIN_DESCRIPTION_WORDS:
                reject(f"description under {MIN_DESCRIPTION_WORDS} words")
                continue
            if len(text) < MIN_TEXT_CHARS:
                reject(f"text under {MIN_TEXT_CHARS} characters")
                continue
            if key in seen_descriptions:
                reject("duplicate description")
                continue
            digest = hashlib.sha1(text.encode()).digest()
            if digest in seen_texts:
                reject("duplicate text")
                continue
            seen_descriptions.add(key)
            seen_texts.add(digest)
            page = names[index]
            page = page[:-3] if page.endswith(".gz") else page
            page = page[:-2] if page.endswith(".1") else page
            chosen.append((page, description, text))
        if len(chosen) >= count:
            break
    if log:
        for reason, n in sorted(rejected.items(), key=lambda kv: -kv[1]):
            log(f"  skipped {n:5d}: {reason}")
    return names, chosen


# ---- evaluation ----

def find_plugins(args):
    for candidate in (args.plugins, os.environ.get("STACHE_TEST_BUILTIN_PLUGINS")):
        folders = [f for f in (candidate or "").split(":") if f]
        if folders and all(os.path.isdir(f) for f in folders):
            return ":".join(os.path.abspath(f) for f in folders)
    here = os.path.dirname(os.path.abspath(__file__))
    guess = os.path.join(here, "..", "..", "build", "plugins")
    return os.path.abspath(guess) if os.path.isdir(guess) else None


def isolate_environment(tmp, plugins, also_unset=()):
    """Makes everything a store reads come from @tmp and the plugin
    folders @plugins, never the user's setup: XDG folders, no provider
    chosen by the environment, nor any variable named in @also_unset."""
    os.environ["XDG_DATA_HOME"] = os.path.join(tmp, "data")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(tmp, "config")
    os.environ["XDG_DATA_DIRS"] = os.path.join(tmp, "data-dirs")
    os.environ["STACHE_PLUGIN_PATH"] = plugins
    for key in list(os.environ):
        if key.endswith("_PROVIDER") or key in also_unset:
            del os.environ[key]
