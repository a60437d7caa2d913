namespace Capa.Templates.Tests.Runtime;

/// <summary>One case per language construct: template, variables (JSON), expected output.</summary>
public sealed class ConstructTests
{
    public static TheoryData<string, string, string> Cases() => new()
    {
        // Output and literals
        { "plain text", "{}", "plain text" },
        { "{{ 'a' ~ \"b\" }}{{ 1 }}{{ -2 }}{{ 1.5 }}{{ 2.0 }}", "{}", "ab1-21.52.0" },
        { "{{ true }}|{{ none }}|{{ undefined_name }}|{{ [1, 'a'] }}", "{}", "true|||[1, \"a\"]" },
        { "{{ 'it' 's' }}{{ \"\\n\\t\\u00e9\" }}", "{}", "its\n\té" },
        { "{{ {'a': 1, 'b': [true, none]} }}", "{}", "{\"a\": 1, \"b\": [true, null]}" },

        // Whitespace control, trim_blocks and lstrip_blocks
        { "a\n  {% if true %}\n  b\n  {% endif %}\nc", "{}", "a\n  b\nc" },
        { "a  {%- if true -%}  b  {%- endif -%}  c", "{}", "abc" },
        { "a {{- 'b' -}} c", "{}", "abc" },
        { "a {#- comment -#} b{# c #}", "{}", "ab" },
        { "x\n", "{}", "x" },
        { "{{ 'a' }}\n{{ 'b' }}", "{}", "a\nb" },

        { "{% for x in xs %}\n  {{ x }}\n{% endfor %}", "{\"xs\":[1,2]}", "  1\n  2\n" },
        { "a\n  {#- c #}\n x", "{}", "a x" },
        { "{%- if true %}\n\ta\n{%- endif %}\nb", "{}", "\tab" },
        { "{{ 'a' }}\n\n  {%- set y = 1 -%}\n\n b", "{}", "ab" },
        { "<{% if true %}\n\n{% endif %}>\n  {{ 'x' }}  \n", "{}", "<\n>\n  x  " },
        { "{% set d = {'a': {'b': 1}} %}{{ d }}{{ d.a.b }}{{ {'k': 'v'}['k'] }}", "{}", "{\"a\": {\"b\": 1}}1v" },
        { "{{ x | tojson }}|{{ y | tojson }}|{{ z }}|{{ w }}", "{\"x\":2.0,\"y\":1.25,\"z\":3.0,\"w\":-0.5}", "2|1.25|3|-0.5" },
        { "{{ s | length }}{{ s[0:1] }}", "{\"s\":\"\ud83d\ude00a\"}", "3\ud83d\ude00" },
        { "{{ '\\u00e9' | tojson(ensure_ascii=true) }}{{ '\u007f\u0001' | tojson }}", "{}", "\"\\u00e9\"\"\u007f\\u0001\"" },

        // set, block set, tuple unpacking, namespace
        { "{% set x = 1 + 2 %}{{ x }}", "{}", "3" },
        { "{% set a, b = [1, 2] %}{{ b }}{{ a }}", "{}", "21" },
        { "{% set a, b = 1, 2 %}{{ a + b }}", "{}", "3" },
        { "{% set block %}hi {{ name }}{% endset %}[{{ block }}]", "{\"name\":\"bob\"}", "[hi bob]" },
        { "{% set ns = namespace(n=0) %}{% for i in [1,2,3] %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}", "{}", "6" },
        { "{% set n = 0 %}{% for i in [1,2] %}{% set n = n + i %}{% endfor %}{{ n }}", "{}", "0" },

        // if / elif / else, ternary
        { "{% if x == 1 %}one{% elif x == 2 %}two{% else %}many{% endif %}", "{\"x\":2}", "two" },
        { "{% if not x %}none{% endif %}", "{}", "none" },
        { "{{ 'y' if x else 'n' }}{{ 'a' if false }}", "{\"x\":[0]}", "y" },
        { "{{ 'a' if false else 'b' if true else 'c' }}", "{}", "b" },

        // for, loop variables, filters, else
        { "{% for x in xs %}{{ loop.index }}{{ loop.index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.revindex }};{% endfor %}", "{\"xs\":[\"a\",\"b\"]}", "10truefalse22;21falsetrue21;" },
        { "{% for x in xs %}{{ loop.previtem }}>{{ x }}>{{ loop.nextitem }} {% endfor %}", "{\"xs\":[1,2,3]}", ">1>2 1>2>3 2>3> " },
        { "{% for x in xs if x > 1 %}{{ x }}{% endfor %}", "{\"xs\":[1,2,3]}", "23" },
        { "{% for x in [] %}x{% else %}empty{% endfor %}", "{}", "empty" },
        { "{% for k, v in d.items() %}{{ k }}={{ v }},{% endfor %}", "{\"d\":{\"a\":1,\"b\":2}}", "a=1,b=2," },
        { "{% for k in d %}{{ k }}{% endfor %}", "{\"d\":{\"a\":1,\"b\":2}}", "ab" },
        { "{% for x in [1,2,3,4] %}{% if x == 2 %}{% continue %}{% endif %}{% if x == 4 %}{% break %}{% endif %}{{ x }}{% endfor %}", "{}", "13" },
        { "{% for x in xs %}{{ loop.cycle('a','b') }}{% endfor %}", "{\"xs\":[1,2,3]}", "aba" },

        // macro and call
        { "{% macro greet(name, punct='!') %}Hi {{ name }}{{ punct }}{% endmacro %}{{ greet('A') }} {{ greet('B', punct='?') }}", "{}", "Hi A! Hi B?" },
        { "{% macro wrap() %}[{{ caller() }}]{% endmacro %}{% call wrap() %}in{% endcall %}", "{}", "[in]" },
        { "{% macro m(a) %}{{ a }}{{ varargs | length }}{% endmacro %}{{ m(1, 2, 3) }}", "{}", "12" },
        { "{% filter upper %}abc{% endfilter %}", "{}", "ABC" },

        // Operators
        { "{{ 7 // 2 }} {{ 7 / 2 }} {{ 7 % 3 }} {{ 2 ** 3 }} {{ -7 // 2 }} {{ 1.5 * 2 }}", "{}", "3 3.5 1 8 -4 3.0" },
        { "{{ 'a' + 'b' }}{{ [1] + [2] }}{{ 'x' * 3 }}", "{}", "ab[1, 2]xxx" },
        { "{{ 1 < 2 }}{{ 2 <= 1 }}{{ 'a' < 'b' }}{{ 1 == 1.0 }}{{ 'a' != 'b' }}", "{}", "truefalsetruetruetrue" },
        { "{{ 'a' in 'cat' }}{{ 2 in [1,2] }}{{ 'k' in d }}{{ 'z' not in d }}{{ 1 in undefined_name }}", "{\"d\":{\"k\":1}}", "truetruetruetruefalse" },
        { "{{ x and 'yes' }}|{{ x or 'no' }}|{{ not x }}", "{\"x\":\"\"}", "|no|true" },
        { "{{ (1 + 2) * 3 }}{{ 1 + 2 * 3 }}", "{}", "97" },

        // Slicing and indexing
        { "{{ xs[1:] }}{{ xs[:-1] }}{{ xs[::-1] }}{{ xs[-1] }}{{ xs[0] }}", "{\"xs\":[1,2,3]}", "[2, 3][1, 2][3, 2, 1]31" },
        { "{{ s[1:3] }}{{ s[::-1] }}{{ s[0] }}", "{\"s\":\"abcd\"}", "bcdcbaa" },
        { "{{ m.role }}{{ m['role'] }}{{ m.missing }}{{ m.missing.deeper }}", "{\"m\":{\"role\":\"user\"}}", "useruser" },

        // String methods
        { "{{ ' a '.strip() }}|{{ '\\nab\\n'.lstrip('\\n') }}|{{ 'xxaxx'.rstrip('x') }}|{{ 'a b  c'.split() }}|{{ 'a,b'.split(',') }}", "{}", "a|ab\n|xxa|[\"a\", \"b\", \"c\"]|[\"a\", \"b\"]" },
        { "{{ 'abc'.startswith('a') }}{{ 'abc'.endswith(('x', 'c')) }}{{ 'aXa'.replace('a', 'b') }}{{ 'ab'.upper() }}{{ 'hello world'.title() }}", "{}", "truetruebXbABHello World" },
        { "{{ 'abcb'.find('b') }}{{ 'abcb'.count('b') }}{{ '{}-{}'.format(1, 'x') }}{{ ', '.join(['a', 'b']) }}", "{}", "12" + "1-xa, b" },

        // Mapping methods
        { "{{ d.get('a') }}{{ d.get('z', 'dflt') }}{{ d.get('z') }}{{ d.keys() | list }}{{ d.values() | list }}", "{\"d\":{\"a\":1}}", "1dflt[\"a\"][1]" },
        { "{% set xs = [] %}{{ xs.append(1) }}{{ xs }}", "{}", "[1]" },

        // Filters
        { "{{ '  x  ' | trim }}|{{ 'ab' | upper }}|{{ 'AB' | lower }}|{{ 'hello there' | title }}|{{ 'hello' | capitalize }}", "{}", "x|AB|ab|Hello There|Hello" },
        { "{{ xs | length }}{{ 'abc' | length }}{{ d | length }}{{ xs | count }}{{ xs | first }}{{ xs | last }}", "{\"xs\":[1,2],\"d\":{\"a\":1}}", "23121" + "2" },
        { "{{ xs | join(', ') }}|{{ xs | join }}|{{ xs | reverse | list }}|{{ xs | sort }}|{{ xs | unique | list }}", "{\"xs\":[3,1,3]}", "3, 1, 3|313|[3, 1, 3]|[1, 3, 3]|[3, 1]" },
        { "{{ missing | default('d') }}{{ '' | default('e', true) }}{{ '' | d('f') }}{{ 0 | default('g') }}", "{}", "de0" },
        { "{{ 'a-b' | replace('-', '+') }}{{ 42 | string }}{{ '12x' | int }}{{ '2.5' | float }}{{ 3.7 | int }}{{ -3 | abs }}", "{}", "a+b42122.53" + "3" },
        { "{{ 2.567 | round(2) }}{{ 2.5 | round }}{{ 'x' | safe }}{{ '<a&b>' | escape }}", "{}", "2.573.0x&lt;a&amp;b&gt;" },
        { "{{ d | items | list }}{{ d | dictsort }}", "{\"d\":{\"b\":1,\"a\":2}}", "[[\"b\", 1], [\"a\", 2]][[\"a\", 2], [\"b\", 1]]" },
        { "{{ xs | selectattr('on') | map(attribute='n') | list }}{{ xs | rejectattr('on') | map(attribute='n') | join }}", "{\"xs\":[{\"n\":\"a\",\"on\":true},{\"n\":\"b\",\"on\":false}]}", "[\"a\"]b" },
        { "{{ xs | selectattr('role', 'equalto', 'tool') | list | length }}{{ xs | map(attribute='x', default=0) | list }}", "{\"xs\":[{\"role\":\"tool\"},{\"role\":\"user\"}]}", "1[0, 0]" },
        { "{{ 'a\\nb\\n\\nc' | indent(2) }}|{{ 'a\\nb' | indent(2, true) }}", "{}", "a\n  b\n\n  c|  a\n  b" },
        { "{{ [1,2,3,4,5] | batch(2) | list }}{{ xs | sort(attribute='n') | map(attribute='n') | join }}", "{\"xs\":[{\"n\":\"b\"},{\"n\":\"a\"}]}", "[[1, 2], [3, 4], [5]]ab" },
        { "{{ ['b','A','a'] | sort }}{{ ['b','A','a'] | sort(case_sensitive=true) }}{{ [1,3,2] | sort(reverse=true) }}", "{}", "[\"A\", \"a\", \"b\"][\"A\", \"a\", \"b\"][3, 2, 1]" },

        // tojson: separators, indentation, non-ASCII kept, key order kept
        { "{{ d | tojson }}", "{\"d\":{\"z\":1,\"a\":[1,2],\"s\":\"中文\\\"\\n\",\"e\":{},\"l\":[]}}", "{\"z\": 1, \"a\": [1, 2], \"s\": \"中文\\\"\\n\", \"e\": {}, \"l\": []}" },
        { "{{ d | tojson(indent=2) }}", "{\"d\":{\"a\":[1,{\"b\":null}],\"e\":[]}}", "{\n  \"a\": [\n    1,\n    {\n      \"b\": null\n    }\n  ],\n  \"e\": []\n}" },
        { "{{ d | tojson(sort_keys=true, ensure_ascii=true) }}{{ d | tojson(separators=(',', ':')) }}", "{\"d\":{\"b\":\"é\",\"a\":1}}", "{\"a\": 1, \"b\": \"\\u00e9\"}{\"b\":\"é\",\"a\":1}" },
        { "{{ 0.1 + 0.2 }}|{{ [0.5, 10.0 ** 21, 0.00000015] | tojson }}|{{ 10 / 4 }}", "{}", "0.30000000000000004|[0.5, 1e+21, 1.5e-7]|2.5" },

        // Tests
        { "{{ x is defined }}{{ y is undefined }}{{ n is none }}{{ s is string }}{{ 1 is number }}{{ 1 is integer }}{{ 1.5 is integer }}", "{\"x\":1,\"n\":null,\"s\":\"a\"}", "truetruetruetruetruetruefalse" },
        { "{{ d is mapping }}{{ xs is iterable }}{{ s is iterable }}{{ xs is sequence }}{{ true is boolean }}{{ true is true }}{{ false is false }}", "{\"d\":{},\"xs\":[],\"s\":\"\"}", "truetruetruetruetruetruetrue" },
        { "{{ 3 is odd }}{{ 4 is even }}{{ x is equalto 1 }}{{ x is eq(1) }}{{ 'a' is in(['a']) }}{{ 6 is divisibleby 3 }}{{ x is not none }}", "{\"x\":1}", "truetruetruetruetruetruetrue" },

        // Undefined: falsy, prints empty, attribute access stays undefined
        { "{% if missing %}x{% else %}y{% endif %}[{{ missing }}][{{ missing.a.b }}][{{ missing is defined }}]", "{}", "y[][][false]" },
        { "{% for x in missing %}x{% endfor %}ok", "{}", "ok" },

        // transformers' generation markers render nothing
        { "a{% generation %}b{% endgeneration %}c", "{}", "abc" },

        // Globals
        { "{{ range(3) | list }}{{ range(1, 6, 2) | list }}{{ strftime_now('%d %b %Y %H:%M') }}", "{}", "[0, 1, 2][1, 3, 5]09 Mar 2026 10:00" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Renders(string template, string variables, string expected)
    {
        Assert.Equal(expected, TemplateTestHelpers.Render(template, variables));
    }
}
