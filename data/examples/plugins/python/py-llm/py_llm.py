# py_llm.py: an example language model provider written in Python
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A deterministic "summarizer" that answers from the sources it is given.

StacheStore.ask() sends a prompt in this form (see build_prompt() in
libstache/stache-store.c):

    Question: <the question>

    Sources:
    [1] <title or file>
    <text>

    [2] ...

This provider does not run a model. It splits the sources into sentences,
scores each sentence by how many of the question's words it contains, and
answers with the best ones, each followed by the number of its source:
"Feed it once a day ... [1]". With no usable source it says so. A real
provider would send the prompt (and the system prompt) to a model and
return its text; the shape of the code stays the same.

Only do_generate is implemented: Stache calls it for ask(), and for
streaming callers it hands the whole text over as one piece.

Settings:

  py_llm_max_sentences   PY_LLM_MAX_SENTENCES   how many sentences the
                         answer quotes, 1 to 20, default 2

Documented failure: a prompt that is not in the form above (no
"Question:" line) is refused with a GLib.Error (Stache.Error.INVALID_ARGUMENT)
whose message starts with "py-llm only answers prompts".

Install: copy this folder (py-llm/) into ~/.local/share/stache/plugins/
(or a folder listed in STACHE_PLUGIN_PATH), then select it:

  LLM_PROVIDER=py-llm stache ask "How often should a starter be fed?"
"""

import re

import gi

gi.require_version("Stache", "1.0")
from gi.repository import GLib, Stache  # noqa: E402

MODEL = "py-llm-summarizer"
WORD = re.compile(r"\w+", re.UNICODE)
SOURCE_HEADER = re.compile(r"^\[(\d+)\] ?(.*)$")
SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Words too common to say what a question is about.
STOP_WORDS = frozenset("""a an and are as at be by can do does for from has have how i
    in is it its of on or should the to was what when where which who why with""".split())


def content_words(text):
    return {w for w in WORD.findall(text.lower()) if w not in STOP_WORDS}


def parse_prompt(prompt):
    """Returns (question, [(number, text)]) from a prompt built by StacheStore."""
    lines = prompt.splitlines()
    if not lines or not lines[0].startswith("Question:"):
        raise GLib.Error.new_literal(
            Stache.error_quark(),
            "py-llm only answers prompts that start with “Question:” followed by numbered "
            "sources, as StacheStore.ask() writes them",
            int(Stache.Error.INVALID_ARGUMENT))
    question = lines[0][len("Question:"):].strip()
    sources = []
    number = None
    body = []
    for line in lines[1:]:
        header = SOURCE_HEADER.match(line)
        if header:
            if number is not None:
                sources.append((number, " ".join(body)))
            number, body = int(header.group(1)), []   # the label line is not text
        elif number is not None and line.strip() and not line.startswith("#"):
            body.append(line.strip())   # Markdown headings are not sentences
    if number is not None:
        sources.append((number, " ".join(body)))
    return question, sources


class PyLlm(Stache.Provider, Stache.LlmProvider):
    """LLM: do_generate (prompt, system_prompt, options, cancellable) -> Stache.Completion."""

    __gtype_name__ = "PyExampleLlm"

    def do_get_capabilities(self):
        return ["generate"]

    def do_generate(self, prompt, system_prompt, options, cancellable):
        settings = self.get_settings() or Stache.Settings.new()
        ok, max_sentences = settings.get_int_range("py_llm_max_sentences", 2, 1, 20)
        question, sources = parse_prompt(prompt)
        wanted = content_words(question)

        candidates = []
        for number, text in sources:
            for position, sentence in enumerate(SENTENCE_END.split(text)):
                overlap = len(wanted & content_words(sentence))
                if overlap:
                    # most shared words first; then earlier sources, then earlier sentences
                    candidates.append((-overlap, number, position, sentence.strip()))
        candidates.sort()

        if candidates:
            picked = sorted(candidates[:max_sentences], key=lambda c: (c[1], c[2]))
            text = " ".join("%s [%d]" % (sentence, number) for _, number, _, sentence in picked)
        else:
            text = "The sources do not contain the answer."

        completion = Stache.Completion.new(text)
        completion.set_model(MODEL)
        completion.set_finish_reason("stop")
        return completion
