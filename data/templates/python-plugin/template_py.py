# template_py.py: a language model provider, as a template for Python plugins
#
# SPDX-License-Identifier: LGPL-2.1-or-later
"""The `template-py` LLM provider answers without a model.

StacheStore.ask() sends a prompt in this form:

    Question: <the question>

    Sources:
    [1] <title or file>
    <text>
    [2] ...

This provider answers with the first words of source [1] (the best
passage search found), followed by its citation: "Feed it once a day … [1]".
A real provider would send the prompt and the system prompt to a model
and return its text; the shape of the code stays the same.

Setting:

  template_py_max_words   TEMPLATE_PY_MAX_WORDS   how many words of the
                          source the answer quotes, 1 to 200, default 30

To make it your own: rename the module (this file and Module= in the
.plugin file; module names are global in Stache's Python interpreter),
the class and its __gtype_name__, the provider name (X-Stache-Providers)
and the setting.
"""

import re

import gi

gi.require_version("Stache", "1.0")
from gi.repository import GLib, Stache  # noqa: E402

SOURCE_HEADER = re.compile(r"^\[(\d+)\]")


def first_source(prompt):
    """The number and text of the first source in a prompt from StacheStore, or None."""
    number, body = None, []
    for line in prompt.splitlines():
        header = SOURCE_HEADER.match(line)
        if header:
            if number is not None:
                break
            number = int(header.group(1))   # the label line is not text
        elif number is not None and line.strip():
            body.append(line.strip())
    if number is None:
        return None
    return number, " ".join(body)


class TemplatePyLlm(Stache.Provider, Stache.LlmProvider):
    """LLM: do_generate (prompt, system_prompt, options, cancellable) -> Stache.Completion."""

    __gtype_name__ = "TemplatePyLlm"

    def _max_words(self):
        settings = self.get_settings() or Stache.Settings.new()
        ok, max_words = settings.get_int_range("template_py_max_words", 30, 1, 200)
        return max_words

    def do_get_capabilities(self):
        return ["generate"]

    def do_generate(self, prompt, system_prompt, options, cancellable):
        if not prompt.startswith("Question:"):
            raise GLib.Error.new_literal(
                Stache.error_quark(),
                "template-py only answers prompts that start with “Question:”, "
                "as StacheStore.ask() writes them",
                int(Stache.Error.INVALID_ARGUMENT))
        source = first_source(prompt)
        if source is None or not source[1]:
            text = "The sources do not contain the answer."
        else:
            number, body = source
            words = body.split()
            quote = " ".join(words[:self._max_words()])
            if len(words) > self._max_words():
                quote += " …"
            text = "%s [%d]" % (quote, number)
        completion = Stache.Completion.new(text)
        completion.set_model("template-py")
        completion.set_finish_reason("stop")
        return completion
