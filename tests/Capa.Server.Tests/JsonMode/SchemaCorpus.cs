namespace Capa.Server.Tests.JsonMode;

/// <summary>
/// JSON schemas in OpenAI's structured-outputs subset: nested objects, enums, arrays, nullable types, anyOf,
/// recursive $ref, formats, patterns and bounds. Strings are mostly bounded so random-weight output finishes.
/// </summary>
internal static class SchemaCorpus
{
    public static readonly (string Name, string Schema, bool Strict)[] All =
    [
        ("flag", """{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}""", true),
        ("score", """{"type":"object","properties":{"score":{"type":"integer","minimum":0,"maximum":10}},"required":["score"],"additionalProperties":false}""", true),
        ("sentiment", """{"type":"object","properties":{"label":{"type":"string","enum":["positive","negative","neutral"]},"confidence":{"type":"number","minimum":0,"maximum":1}},"required":["label","confidence"],"additionalProperties":false}""", true),
        ("nullable", """{"type":"object","properties":{"note":{"type":["string","null"],"maxLength":5},"count":{"type":["integer","null"],"maximum":50}},"required":["note","count"],"additionalProperties":false}""", true),
        ("tags", """{"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","enum":["red","green","blue"]},"maxItems":4}},"required":["tags"],"additionalProperties":false}""", true),
        ("point", """{"type":"object","properties":{"x":{"type":"number","minimum":-100,"maximum":100},"y":{"type":"number","minimum":-100,"maximum":100}},"required":["x","y"],"additionalProperties":false}""", true),
        ("nested", """{"type":"object","properties":{"user":{"type":"object","properties":{"name":{"type":"string","maxLength":6},"age":{"type":"integer","minimum":0,"maximum":120}},"required":["name","age"],"additionalProperties":false},"active":{"type":"boolean"}},"required":["user","active"],"additionalProperties":false}""", true),
        ("anyof", """{"type":"object","properties":{"value":{"anyOf":[{"type":"integer","minimum":0,"maximum":9},{"type":"string","enum":["none","many"]},{"type":"null"}]}},"required":["value"],"additionalProperties":false}""", true),
        ("tree", """{"type":"object","properties":{"root":{"$ref":"#/$defs/node"}},"required":["root"],"additionalProperties":false,"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer","minimum":0,"maximum":9},"kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v","kids"],"additionalProperties":false}}}""", true),
        ("linked", """{"type":"object","properties":{"head":{"$ref":"#/definitions/item"}},"required":["head"],"additionalProperties":false,"definitions":{"item":{"type":"object","properties":{"id":{"type":"integer","minimum":1,"maximum":99},"next":{"anyOf":[{"$ref":"#/definitions/item"},{"type":"null"}]}},"required":["id","next"],"additionalProperties":false}}}""", true),
        ("matrix", """{"type":"object","properties":{"rows":{"type":"array","items":{"type":"array","items":{"type":"integer","minimum":0,"maximum":1},"minItems":1,"maxItems":3},"minItems":1,"maxItems":3}},"required":["rows"],"additionalProperties":false}""", true),
        ("const", """{"type":"object","properties":{"version":{"const":"v1"},"kind":{"const":3}},"required":["version","kind"],"additionalProperties":false}""", true),
        ("date", """{"type":"object","properties":{"day":{"type":"string","format":"date"}},"required":["day"],"additionalProperties":false}""", true),
        ("uuid", """{"type":"object","properties":{"id":{"type":"string","format":"uuid"}},"required":["id"],"additionalProperties":false}""", true),
        ("pattern", """{"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-[0-9]{2}$"}},"required":["code"],"additionalProperties":false}""", true),
        ("bounded-text", """{"type":"object","properties":{"title":{"type":"string","minLength":1,"maxLength":4}},"required":["title"],"additionalProperties":false}""", true),
        ("optional", """{"type":"object","properties":{"a":{"type":"boolean"},"b":{"type":"integer","minimum":0,"maximum":5},"c":{"type":"null"}},"required":["a"]}""", false),
        ("exclusive", """{"type":"object","properties":{"t":{"type":"number","exclusiveMinimum":0,"exclusiveMaximum":1}},"required":["t"],"additionalProperties":false}""", true),
        ("items-objects", """{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"sku":{"type":"string","enum":["A1","B2"]},"qty":{"type":"integer","minimum":1,"maximum":3}},"required":["sku","qty"],"additionalProperties":false},"maxItems":3}},"required":["items"],"additionalProperties":false}""", true),
        ("enum-mixed", """{"type":"object","properties":{"v":{"enum":["x",1,true,null]}},"required":["v"],"additionalProperties":false}""", true),
        ("email", """{"type":"object","properties":{"mail":{"type":"string","format":"email","maxLength":20}},"required":["mail"],"additionalProperties":false}""", false),
        ("deep", """{"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"object","properties":{"c":{"type":"array","items":{"type":["boolean","null"]},"maxItems":3}},"required":["c"],"additionalProperties":false}},"required":["b"],"additionalProperties":false}},"required":["a"],"additionalProperties":false}""", true),
    ];
}
