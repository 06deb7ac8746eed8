#!/usr/bin/env python3
"""Golden chat-template renderings for MnemoTokenizers' ChatTemplate tests, made by Hugging Face
`transformers` (its real Jinja renderer: `tokenizer.apply_chat_template(messages, tokenize=False,
add_generation_prompt=...)`, i.e. jinja2's ImmutableSandboxedEnvironment with trim_blocks and
lstrip_blocks, `raise_exception`, `tojson`, `namespace`...).

Input: Fixtures/chat_templates/templates.json (real templates, see extract_chat_templates.py).
For each template a tokenizer is built from Fixtures/tokenizers/gpt2/tokenizer.json plus the model's
special tokens and the template string (apply_chat_template only needs the template and
`special_tokens_map`; the vocabulary does not matter for tokenize=False).

Cases per template: system + user (with generation prompt), user only, a four-turn conversation,
user + assistant without generation prompt, and the "folded" conversation our prompt builder falls back
to when a template rejects or drops the system message (one user message: system + "\\n\\n" + user).
A template that raises (raise_exception) records the exception type and message instead of an output.

Also renders FEATURES below, small templates that exercise the Jinja semantics real templates rely on
(whitespace control, trim_blocks/lstrip_blocks, loop variables and scoping, namespace, filters, tests,
string/dict methods, operators, slicing, macros, errors), through the same apply_chat_template call with
extra variables `xs`, `d`, `x` (transformers passes extra keyword arguments to the template).

Output: Fixtures/chat_templates/goldens.json (real templates) and Fixtures/chat_templates/features.json

Rerun (from the repository root):
    /work/venv/bin/python Fixtures/scripts/make_chat_template_goldens.py
"""
import json

import jinja2
import transformers
from transformers import PreTrainedTokenizerFast

SYSTEM = "  You are a careful assistant.\nSummarize faithfully, in plain prose.  "
USER = ("Summarize this passage:\n\nAlice was beginning to get very tired of sitting by her sister on the bank "
        "\u2014 \u00abcaf\u00e9\u00bb, \u65e5\u672c\u8a9e, \"quotes\" and 'apostrophes' {{ not_jinja }}.\n")
ASSISTANT = " Alice, bored on a riverbank, follows a White Rabbit.  "
USER2 = "Now in one sentence."


def cases():
    yield "system_user", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER}], True
    yield "user", [{"role": "user", "content": USER}], True
    yield "conversation", [{"role": "system", "content": SYSTEM}, {"role": "user", "content": USER},
                           {"role": "assistant", "content": ASSISTANT}, {"role": "user", "content": USER2}], True
    yield "user_assistant_no_generation_prompt", [{"role": "user", "content": USER},
                                                  {"role": "assistant", "content": ASSISTANT}], False
    yield "system_folded", [{"role": "user", "content": SYSTEM + "\n\n" + USER}], True


FEATURE_MESSAGES = [{"role": "system", "content": " Be brief. "}, {"role": "user", "content": "hello there"}]
FEATURE_VARIABLES = {"xs": [1, 2, 3], "d": {"a": 1, "b": "two", "c": [1, "x"]}, "x": 1}
FEATURES = [
    ("trim_lstrip_blocks", "a\n  {% if true %}\n    x\n  {% endif %}\nb"),
    ("dash_control", "{%- if true -%}  x  {%- endif -%}  y\n  {{- 'z' -}}  \n w"),
    ("trailing_newline", "{{ 'c' }}\n"),
    ("crlf", "line1\r\nline2\r\n{% if true %}\r\nx{% endif %}\r\n"),
    ("comments", "a {# c #}\n b {#- c -#} c\n  {# x #}\nd"),
    ("plus_control", "  {%+ if true %}x{% endif %}|{% if true +%}\ny{% endif %}"),
    ("lstrip_not_for_output", "  {{ 'v' }}\n  {% if true %}\n  kept\n{% endif %}  tail"),
    ("loop_variables", "{% for x in ['a', 'b', 'c'] %}{{ loop.index }}{{ loop.index0 }}{{ loop.revindex }}{{ loop.revindex0 }}"
     "{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.previtem }}{{ loop.nextitem }}{{ loop.cycle('o', 'e') }}|{% endfor %}"),
    ("loop_filter_else", "{% for x in xs if x > 1 %}{{ x }}{{ loop.length }}{% else %}none{% endfor %}{% for x in [] %}a{% else %}empty{% endfor %}"),
    ("loop_scoping", "{% set x = 'o' %}{% for i in range(3) %}[{{ x }}]{% if i == 0 %}{% set x = 'a' %}{% endif %}({{ x }}){% endfor %}{{ x }}"),
    ("if_scoping", "{% if true %}{% set y = 5 %}{% endif %}{{ y }}"),
    ("namespace", "{% set ns = namespace(found=false, n=0) %}{% for m in messages %}{% if m.role == 'system' %}{% set ns.found = true %}"
     "{% endif %}{% set ns.n = ns.n + 1 %}{% endfor %}{{ ns.found }} {{ ns.n }}"),
    ("break_continue", "{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}"),
    ("tuple_unpacking", "{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{% for k, v in d | items %}{{ k }}{% endfor %}{% for (a, b) in [[1, 2]] %}{{ a + b }}{% endfor %}"),
    ("slices", "{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::-1] }}{{ 'hello'[1:3] }}{{ xs[-1] }}{{ 'h\u00e9llo'[1] }}{{ xs[5:] }}{{ 'abcdef'[::2] }}"),
    ("arithmetic", "{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 7 / 2 }} {{ 2 ** 10 }} {{ 1 + 2 * 3 }} {{ (1 + 2) * 3 }}"
     " {{ 'a' ~ 1 ~ none }} {{ 'ab' * 3 }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 1.5 + 1 }} {{ -x }} {{ 10 - 2.5 }}"),
    ("logic", "{{ 'a' if x else 'b' }}{{ 'c' if false }}|{{ none or 'd' }}{{ 0 and 'e' }}{{ not none }}{{ x and 'y' }}{{ '' or [] }}"),
    ("membership", "{{ 'a' in 'cat' }}{{ 1 in [1, 2] }}{{ 'k' in {'k': 1} }}{{ 'z' not in 'abc' }}{{ 'tool_calls' in messages[0] }}{{ 'role' in messages[0] }}"),
    ("chained_compare", "{{ 1 < 2 < 3 }}{{ 3 > 2 > 2 }}{{ 1 == 1 == 1 }}{{ 'a' < 'b' }}{{ [1, 2] < [1, 3] }}{{ 2 >= 2 }}"),
    ("tests", "{{ x is defined }}{{ y is defined }}{{ none is none }}{{ 'a' is string }}{{ 1 is number }}{{ d is mapping }}{{ xs is iterable }}"
     "{{ 'a' is iterable }}{{ 3 is odd }}{{ 4 is even }}{{ 6 is divisibleby 3 }}{{ 'a' is equalto 'a' }}{{ x is not none }}"
     "{{ true is boolean }}{{ 1 is integer }}{{ 1.5 is float }}{{ xs is sequence }}{{ y is undefined }}{{ 'ab' is lower }}{{ d.zz is defined }}"),
    ("undefined", "[{{ missing }}][{{ missing | default('dflt') }}][{{ d.nokey }}][{{ messages[5] }}][{{ missing | length }}]"
     "[{{ missing | trim }}]{% for x in missing %}no{% endfor %}{{ missing is defined }}{{ missing ~ 'x' }}{{ none | default('n') }}{{ '' | default('e', true) }}"),
    ("string_filters", "{{ '  a b  ' | trim }}|{{ 'xxaxx' | trim('x') }}|{{ 'Hello' | upper }}{{ 'Hello' | lower }}|{{ 'hello world-wide (test) ok' | title }}"
     "|{{ 'hELLO' | capitalize }}|{{ 'aaa' | replace('a', 'b', 2) }}|{{ 'abc' | length }}{{ 'h\u00e9llo' | length }}|{{ 'abc' | reverse }}"
     "|{{ 'one two  three' | wordcount }}|{{ 5 | string ~ 'a' }}|{{ '<a>' | e }}|{{ 'x' | safe }}"),
    ("list_filters", "{{ xs | join(', ') }}|{{ xs | first }}{{ xs | last }}|{{ xs | length }}|{{ xs | reverse | list }}|{{ [3, 1, 2] | sort }}"
     "|{{ ['b', 'A', 'c'] | sort }}|{{ [1, 2, 2, 3] | unique | list }}|{{ xs | sum }}|{{ xs | max }}{{ xs | min }}|{{ [1, 2] + [3] }}"
     "|{{ [3, 1] | sort(reverse=true) }}|{{ xs | count }}|{{ messages | map(attribute='role') | join }}"),
    ("select_filters", "{{ messages | selectattr('role', 'equalto', 'user') | list | length }}|{{ messages | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join(',') }}"
     "|{{ messages | map(attribute='content') | map('upper') | join('/') }}|{{ [0, 1, 2, '', none] | select | list }}|{{ [1, 2, 3, 4] | select('odd') | list }}"
     "|{{ [1, 2, 3, 4] | reject('even') | list }}|{{ messages | selectattr('content') | list | length }}"),
    ("tojson", "{{ d | tojson }}|{{ d | tojson(indent=2) }}|{{ '\u00e9\"\\n<' | tojson }}|{{ [1, 2.5, none, true] | tojson }}|{{ {'b': 1, 'a': 2} | tojson(sort_keys=true) }}"
     "|{{ [] | tojson }}|{{ {} | tojson(indent=4) }}|{{ messages | tojson(indent=4) }}"),
    ("dict_access", "{{ d.a }}{{ d['a'] }}{{ d.get('a') }}{{ d.get('zz', 'def') }}{{ d.get('zz') }}{{ d.keys() | list }}{{ d.values() | list }}{{ d | length }}{{ d.c[1] }}{{ d['c'][0] }}"),
    ("string_methods", "{{ '  x  '.strip() }}|{{ 'xyx'.strip('x') }}|{{ '  x  '.lstrip() }}|{{ '  x  '.rstrip() }}|{{ 'a,b,,c'.split(',') }}|{{ ' a  b '.split() }}"
     "|{{ 'a b c'.split(' ', 1) }}|{{ 'abc'.startswith('ab') }}{{ 'abc'.endswith(('x', 'c')) }}|{{ 'hello world'.title() }}|{{ 'abc'.upper() }}"
     "|{{ 'a-b'.replace('-', '+') }}|{{ 'banana'.count('a') }}{{ 'banana'.find('n') }}|{{ ', '.join(['a', 'b']) }}|{{ 'user'.capitalize() }}"
     "|{{ ' a b  c '.split(none, 1) }}|{{ 'a b c'.rsplit(' ', 1) }}|{{ 'l1\\nl2'.splitlines() }}|{{ 'abc'.removeprefix('a') }}"),
    ("set_forms", "{% set a, b = 1, 2 %}{{ a }}{{ b }}{% set t %}inner {{ a }}{% endset %}[{{ t }}]{% set l = [a, b] %}{{ l }}"),
    ("macro", "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{{ x }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }} {{ greet(name='C') }}"),
    ("printing", "{{ [1, 'a', none, true, 1.5] }}|{{ {'a': 'b'} }}|{{ (1, 2) }}|{{ (1,) }}|{{ none }}|{{ true }}|{{ 3.0 }}|{{ 1e3 }}|{{ \"it's\" ~ [\"it's\"] }}|{{ 0.1 }}"),
    ("range_and_literals", "{% for i in range(2, 8, 3) %}{{ i }},{% endfor %}{{ range(3) | list }}{{ range(5, 0, -2) | list }}{{ 'ab' ~ 'cd' }}{{ 'x' 'y' }}{{ 1_000 }}"),
    ("escapes", r"{{ 'a\tb\\c\u00e9\x41\'' }}{{ " + '"q\\"q"' + r" }}{{ 'n\n' }}{{ 'keep\d' }}"),
    ("nested_loops", "{% for m in messages %}{% for c in m.content %}{% if loop.index > 3 %}{% break %}{% endif %}{{ c }}{% endfor %};{{ loop.index }}{% endfor %}"),
    ("generation_tag", "{% for m in messages %}{% generation %}{{ m.role }}{% endgeneration %}{% endfor %}"),
    ("filter_precedence", "{{ 'a' + 'b' | upper }}{{ -2 | abs }}{{ ('x' ~ 'y') | upper }}{{ messages[0].content | trim + '!' }}"),
    ("number_filters", "{{ '42' | int + 1 }}{{ 'x' | int }}{{ 3.7 | int }}{{ '2.5' | float }}{{ 2.567 | round(2) }}{{ 2.5 | round }}{{ -3 | abs }}"),
    ("indent", "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}|{{ 'a\\n\\nb' | indent(3, blank=true) }}"),
    ("dictsort_attr", "{{ {'b': 1, 'a': 2} | dictsort }}{{ d | attr('a') }}{{ messages[0]['content'][:5] }}{{ messages[-1].role }}"),
    ("dict_literal_and_global", "{% set m = {'role': 'x', 'n': 1} %}{{ m.role }}{{ m['n'] + 1 }}{{ dict(a=1)['a'] }}{{ namespace(v=3).v }}"),
    ("raise", "before{{ raise_exception('Custom message: ' ~ messages | length) }}"),
    ("undefined_attribute_error", "{{ missing.attr }}"),
    ("type_error", "{{ 1 + 'a' }}"),
    ("undefined_plus", "{{ missing + 'a' }}"),
    ("immutable_list", "{{ xs.append(4) }}"),
    ("syntax_unclosed", "{{ 'a' "),
    ("syntax_endfor", "{% if true %}x{% endfor %}"),
]


def features():
    tok = PreTrainedTokenizerFast(tokenizer_file="Fixtures/tokenizers/gpt2/tokenizer.json", bos_token="<s>", eos_token="</s>")
    out = []
    for name, template in FEATURES:
        entry = {"name": name, "template": template}
        try:
            entry["output"] = tok.apply_chat_template(FEATURE_MESSAGES, tokenize=False, chat_template=template,
                                                      add_generation_prompt=False, **FEATURE_VARIABLES)
            entry["error"] = None
        except Exception as e:  # noqa: BLE001 - the exception type is the golden
            entry["output"] = None
            entry["error"] = {"type": type(e).__name__, "message": str(e)}
        print(f"feature {name:28s} {entry['error'] or repr(entry['output'])[:100]}")
        out.append(entry)
    with open("Fixtures/chat_templates/features.json", "w", encoding="utf-8") as f:
        json.dump({"generator": f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}",
                   "messages": FEATURE_MESSAGES, "variables": FEATURE_VARIABLES,
                   "special_tokens": {"bos_token": "<s>", "eos_token": "</s>"}, "features": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")


def main():
    with open("Fixtures/chat_templates/templates.json", encoding="utf-8") as f:
        templates = json.load(f)["templates"]
    out = []
    for t in templates:
        tok = PreTrainedTokenizerFast(tokenizer_file="Fixtures/tokenizers/gpt2/tokenizer.json", **t["special_tokens"])
        tok.chat_template = t["template"]
        assert {k: v for k, v in tok.special_tokens_map.items() if k in t["special_tokens"]} == t["special_tokens"]
        for name, messages, generation in cases():
            entry = {"template": t["name"], "case": name, "messages": messages, "add_generation_prompt": generation}
            try:
                entry["output"] = tok.apply_chat_template(messages, tokenize=False, add_generation_prompt=generation)
                entry["error"] = None
            except jinja2.exceptions.TemplateError as e:
                entry["output"] = None
                entry["error"] = {"type": type(e).__name__, "message": str(e)}
            out.append(entry)
            print(f"{t['name']:20s} {name:38s} {'ERROR ' + str(entry['error']) if entry['error'] else len(entry['output'])}")
    with open("Fixtures/chat_templates/goldens.json", "w", encoding="utf-8") as f:
        json.dump({"generator": f"transformers {transformers.__version__}, jinja2 {jinja2.__version__}",
                   "special_tokens_passed": "tokenizer.special_tokens_map", "cases": out}, f, ensure_ascii=False, indent=1)
        f.write("\n")
    features()


if __name__ == "__main__":
    main()
