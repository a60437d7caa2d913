using System.Text.Json;

namespace Capa.Constraints.Tests;

/// <summary>Schemas the walks run over: nested objects, enums, arrays, nullable, anyOf, recursion, bounds, formats, patterns.</summary>
internal static class SchemaCorpus
{
    private static readonly Dictionary<string, string> Schemas = new()
    {
        ["person"] = """
            {"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0,"maximum":150},"email":{"type":"string","format":"email"}},
             "required":["name","age","email"],"additionalProperties":false}
            """,
        ["enums"] = """
            {"type":"object","properties":{"color":{"type":"string","enum":["red","green","blue"]},"size":{"enum":[1,2,3,12,"xl",null,true]}},"required":["color","size"],"additionalProperties":false}
            """,
        ["nested"] = """
            {"type":"object","properties":{"user":{"type":"object","properties":{"id":{"type":"string","format":"uuid"},
              "profile":{"type":"object","properties":{"bio":{"type":"string","maxLength":40},"tags":{"type":"array","items":{"type":"string"},"minItems":1,"maxItems":3}},
              "required":["bio","tags"],"additionalProperties":false}},"required":["id","profile"],"additionalProperties":false},
              "created":{"type":"string","format":"date-time"}},"required":["user","created"],"additionalProperties":false}
            """,
        ["nullable"] = """
            {"type":"object","properties":{"middle":{"type":["string","null"]},"score":{"type":["number","null"],"minimum":0,"maximum":10}},"required":["middle","score"],"additionalProperties":false}
            """,
        ["payment"] = """
            {"type":"object","properties":{"payment":{"anyOf":[
              {"type":"object","properties":{"card":{"type":"string","pattern":"^\\d{16}$"},"cvc":{"type":"string","pattern":"^\\d{3}$"}},"required":["card","cvc"],"additionalProperties":false},
              {"type":"object","properties":{"iban":{"type":"string","minLength":5,"maxLength":34}},"required":["iban"],"additionalProperties":false}]}},
             "required":["payment"],"additionalProperties":false}
            """,
        ["tree"] = """
            {"type":"object","properties":{"root":{"$ref":"#/definitions/node"}},"required":["root"],"additionalProperties":false,
             "definitions":{"node":{"type":"object","properties":{"value":{"type":"integer"},"children":{"type":"array","items":{"$ref":"#/definitions/node"},"maxItems":3}},
              "required":["value","children"],"additionalProperties":false}}}
            """,
        ["linked"] = """
            {"type":"object","properties":{"value":{"type":"string","maxLength":8},"next":{"anyOf":[{"$ref":"#"},{"type":"null"}]}},"required":["value","next"],"additionalProperties":false}
            """,
        ["numbers"] = """
            {"type":"object","properties":{"lat":{"type":"number","minimum":-90,"maximum":90},"lon":{"type":"number","exclusiveMinimum":-180,"exclusiveMaximum":180},
             "count":{"type":"integer","minimum":1,"maximum":10},"pct":{"type":"number","minimum":0,"maximum":1},"big":{"type":"integer","minimum":1000000,"exclusiveMaximum":1000005},
             "neg":{"type":"number","maximum":-0.5}},
             "required":["lat","lon","count","pct","big","neg"],"additionalProperties":false}
            """,
        ["matrix"] = """
            {"type":"object","properties":{"matrix":{"type":"array","items":{"type":"array","items":{"type":"integer","minimum":-9,"maximum":9},"minItems":2,"maxItems":2},"minItems":2,"maxItems":3}},"required":["matrix"],"additionalProperties":false}
            """,
        ["consts"] = """
            {"type":"object","properties":{"kind":{"const":"event"},"version":{"const":2},"meta":{"const":{"a":[1,"x"]}}},"required":["kind","version","meta"],"additionalProperties":false}
            """,
        ["optional"] = """
            {"type":"object","properties":{"a":{"type":"string"},"b":{"type":"integer"},"c":{"type":"boolean"},"d":{"type":"number"}},"required":["c"]}
            """,
        ["formats"] = """
            {"type":"object","properties":{"day":{"type":"string","format":"date"},"at":{"type":"string","format":"time"},"ip":{"type":"string","format":"ipv4"},"when":{"type":"string","format":"date-time"}},
             "required":["day","at","ip","when"],"additionalProperties":false}
            """,
        ["patterns"] = """
            {"type":"object","properties":{"code":{"type":"string","pattern":"^[A-Z]{3}-\\d{2,4}$"},"slug":{"type":"string","pattern":"^[a-z0-9]+(?:-[a-z0-9]+)*$","maxLength":12},
             "hex":{"type":"string","pattern":"#[0-9a-f]{6}"},"word":{"type":"string","pattern":"^\\w+( \\w+)?$"},"free":{"type":"string","pattern":"^[^\"\\\\]{0,5}$"}},
             "required":["code","slug","hex","word","free"],"additionalProperties":false}
            """,
        ["lengths"] = """
            {"type":"object","properties":{"short":{"type":"string","minLength":2,"maxLength":5},"long":{"type":"string","minLength":10},"exact":{"type":"string","minLength":3,"maxLength":3}},
             "required":["short","long","exact"],"additionalProperties":false}
            """,
        ["scalars"] = """
            {"type":"object","properties":{"flag":{"type":"boolean"},"nothing":{"type":"null"},"any":{"type":["integer","boolean","null"]}},"required":["flag","nothing","any"],"additionalProperties":false}
            """,
        ["anyOfPrimitives"] = """
            {"type":"object","properties":{"v":{"anyOf":[{"type":"integer","minimum":100},{"type":"string","maxLength":3},{"type":"boolean"},{"type":"array","items":{"type":"integer"},"maxItems":2}]}},"required":["v"],"additionalProperties":false}
            """,
        ["invoice"] = """
            {"type":"object","properties":{"lines":{"type":"array","minItems":1,"maxItems":4,"items":{"type":"object","properties":{"sku":{"type":"string","pattern":"^[A-Z0-9]{4,8}$"},
             "qty":{"type":"integer","minimum":1},"price":{"type":"number","minimum":0}},"required":["sku","qty","price"],"additionalProperties":false}},"total":{"type":"number"}},
             "required":["lines","total"],"additionalProperties":false}
            """,
        ["tuple"] = """
            {"type":"object","properties":{"point":{"type":"array","prefixItems":[{"type":"number"},{"type":"number"},{"type":"string","enum":["m","km"]}],"items":false,"minItems":2}},"required":["point"],"additionalProperties":false}
            """,
        ["addresses"] = """
            {"type":"object","properties":{"billing":{"$ref":"#/$defs/address"},"shipping":{"anyOf":[{"$ref":"#/$defs/address"},{"type":"null"}]}},"required":["billing","shipping"],"additionalProperties":false,
             "$defs":{"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string","pattern":"^\\d{5}$"}},"required":["street","city","zip"],"additionalProperties":false}}}
            """,
        ["deep"] = """
            {"type":"object","properties":{"a":{"type":"object","properties":{"b":{"type":"object","properties":{"c":{"type":"object","properties":{"d":{"type":"array","items":{"type":"string","enum":["x","y"]},"maxItems":2}},
             "required":["d"],"additionalProperties":false}},"required":["c"],"additionalProperties":false}},"required":["b"],"additionalProperties":false}},"required":["a"],"additionalProperties":false}
            """,
        ["expression"] = """
            {"type":"object","properties":{"expr":{"$ref":"#/$defs/expr"}},"required":["expr"],"additionalProperties":false,
             "$defs":{"expr":{"anyOf":[{"type":"integer","minimum":0,"maximum":99},{"type":"object","properties":{"op":{"enum":["+","-","*"]},"left":{"$ref":"#/$defs/expr"},"right":{"$ref":"#/$defs/expr"}},
              "required":["op","left","right"],"additionalProperties":false}]}}}
            """,
        ["anything"] = """
            {"type":"object","properties":{"meta":{},"list":{"type":"array"},"obj":{"type":"object"}},"required":["meta","list","obj"]}
            """,
        ["chinese"] = """
            {"type":"object","properties":{"城市":{"type":"string"},"描述":{"type":"string","maxLength":10},"标签":{"type":"array","items":{"type":"string","minLength":1}}},"required":["城市","描述","标签"],"additionalProperties":false}
            """,
        ["weather"] = """
            {"type":"object","properties":{"location":{"type":"string","description":"City and country"},"unit":{"type":["string","null"],"enum":["celsius","fahrenheit",null]},
             "days":{"type":"integer","minimum":1,"maximum":14,"default":3}},"required":["location","unit","days"],"additionalProperties":false,"title":"Weather"}
            """,
        ["events"] = """
            {"type":"object","properties":{"events":{"type":"array","maxItems":3,"items":{"anyOf":[
              {"type":"object","properties":{"type":{"const":"click"},"x":{"type":"integer"},"y":{"type":"integer"}},"required":["type","x","y"],"additionalProperties":false},
              {"type":"object","properties":{"type":{"const":"key"},"key":{"type":"string","maxLength":1,"minLength":1}},"required":["type","key"],"additionalProperties":false}]}}},
             "required":["events"],"additionalProperties":false}
            """,
    };

    public static IEnumerable<string> Names => Schemas.Keys;

    public static string Text(string name) => Schemas[name];

    public static JsonElement Get(string name)
    {
        using JsonDocument doc = JsonDocument.Parse(Schemas[name]);
        return doc.RootElement.Clone();
    }
}
