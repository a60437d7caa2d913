using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Constraints.Schema;

namespace Capa.Constraints.Tests.Schema;

/// <summary>Whatever cannot be enforced is refused with its keyword and path, never silently dropped.</summary>
public sealed class SchemaRefusalTests
{
    private static JsonElement Parse(string json)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        return doc.RootElement.Clone();
    }

    private static string Wrap(string propertySchema) =>
        $$"""{"type":"object","properties":{"p":{{propertySchema}}},"required":["p"],"additionalProperties":false}""";

    [Theory]
    [InlineData("oneOf", """{"oneOf":[{"type":"string"},{"type":"integer"}]}""")]
    [InlineData("allOf", """{"allOf":[{"type":"string"}]}""")]
    [InlineData("not", """{"not":{"type":"string"}}""")]
    [InlineData("if", """{"if":{"type":"string"},"then":{"minLength":1}}""")]
    [InlineData("patternProperties", """{"type":"object","patternProperties":{"^x":{"type":"string"}}}""")]
    [InlineData("propertyNames", """{"type":"object","propertyNames":{"pattern":"^a"}}""")]
    [InlineData("minProperties", """{"type":"object","minProperties":1}""")]
    [InlineData("maxProperties", """{"type":"object","maxProperties":1}""")]
    [InlineData("dependentRequired", """{"type":"object","dependentRequired":{"a":["b"]}}""")]
    [InlineData("contains", """{"type":"array","contains":{"type":"string"}}""")]
    [InlineData("uniqueItems", """{"type":"array","uniqueItems":true}""")]
    [InlineData("multipleOf", """{"type":"number","multipleOf":0.5}""")]
    [InlineData("contentEncoding", """{"type":"string","contentEncoding":"base64"}""")]
    [InlineData("nullable", """{"type":"string","nullable":true}""")]
    [InlineData("discriminator", """{"type":"object","discriminator":{"propertyName":"kind"}}""")]
    [InlineData("unevaluatedProperties", """{"type":"object","unevaluatedProperties":{"type":"string"}}""")]
    [InlineData("$dynamicRef", """{"$dynamicRef":"#node"}""")]
    [InlineData("format", """{"type":"string","format":"uri"}""")]
    [InlineData("format", """{"type":"string","format":"hostname"}""")]
    [InlineData("format", """{"type":"string","pattern":"^a","format":"date"}""")]
    [InlineData("pattern", """{"type":"string","pattern":"(?=a)b"}""")]
    [InlineData("pattern", """{"type":"string","pattern":"(a)\\1"}""")]
    [InlineData("pattern", """{"type":"string","pattern":"\\bword"}""")]
    [InlineData("pattern", """{"type":"string","pattern":"\\p{L}+"}""")]
    [InlineData("pattern", """{"type":"string","pattern":"中+"}""")]
    [InlineData("pattern", """{"type":"string","pattern":"a^b"}""")]
    [InlineData("exclusiveMinimum", """{"type":"number","minimum":1,"exclusiveMinimum":true}""")]
    [InlineData("$ref", """{"$ref":"https://example.com/schema.json"}""")]
    [InlineData("$ref", """{"$ref":"#anchor"}""")]
    [InlineData("minLength", """{"$ref":"#/$defs/x","minLength":1}""")]
    [InlineData("type", """{"anyOf":[{"type":"string"}],"type":"string"}""")]
    [InlineData("maxLength", """{"enum":["a","bb"],"maxLength":1}""")]
    [InlineData("$id", """{"$id":"https://example.com/x","type":"string"}""")]
    public void UnsupportedKeywordIsRefusedWithKeywordAndPath(string keyword, string propertySchema)
    {
        JsonElement schema = Parse(Wrap(propertySchema));
        UnsupportedSchemaException ex = Assert.Throws<UnsupportedSchemaException>(() => JsonGrammar.FromSchema(schema));
        Assert.Equal(keyword, ex.Keyword);
        Assert.Equal("#/properties/p", ex.Path);
        Assert.Contains("not supported", ex.Message, StringComparison.Ordinal);
        Assert.Contains(keyword, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void PathsPointIntoNestedSchemasAndDefinitions()
    {
        JsonElement schema = Parse("""
            {"type":"object","properties":{"tags":{"type":"array","items":{"type":"string","format":"uri"}}},"required":["tags"],"additionalProperties":false}
            """);
        UnsupportedSchemaException ex = Assert.Throws<UnsupportedSchemaException>(() => JsonGrammar.FromSchema(schema));
        Assert.Equal(("format", "#/properties/tags/items"), (ex.Keyword, ex.Path));

        schema = Parse("""{"type":"object","properties":{},"$defs":{"a/b":{"oneOf":[]}}}""");
        ex = Assert.Throws<UnsupportedSchemaException>(() => JsonGrammar.FromSchema(schema));
        Assert.Equal(("oneOf", "#/$defs/a~1b"), (ex.Keyword, ex.Path));

        schema = Parse("""{"type":"object","properties":{"x":{"anyOf":[{"type":"string"},{"type":"array","items":{"not":{}}}]}}}""");
        ex = Assert.Throws<UnsupportedSchemaException>(() => JsonGrammar.FromSchema(schema));
        Assert.Equal(("not", "#/properties/x/anyOf/1/items"), (ex.Keyword, ex.Path));
    }

    [Fact]
    public void StrictModeMirrorsOpenAiErrors()
    {
        var strict = new JsonSchemaOptions { Strict = true, Subject = "response_format 'weather'" };
        JsonElement noAdditional = Parse("""{"type":"object","properties":{"loc":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}},"required":["loc"],"additionalProperties":false}""");
        InvalidSchemaException ex = Assert.Throws<InvalidSchemaException>(() => JsonGrammar.FromSchema(noAdditional, strict));
        Assert.Equal("Invalid schema for response_format 'weather': In context=('properties', 'loc'), 'additionalProperties' is required to be supplied and to be false.", ex.Message);
        Assert.Equal("#/properties/loc", ex.Path);

        JsonElement missing = Parse("""{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}""");
        ex = Assert.Throws<InvalidSchemaException>(() => JsonGrammar.FromSchema(missing, strict));
        Assert.Equal("Invalid schema for response_format 'weather': In context=(), 'required' is required to be supplied and to be an array including every key in properties. Missing 'b'.", ex.Message);

        // The same schema is fine outside strict mode: b is optional.
        Assert.NotNull(JsonGrammar.FromSchema(missing));
    }

    [Theory]
    [InlineData("""{"type":"array","items":{"type":"string"}}""", "type")]
    [InlineData("""{"anyOf":[{"type":"object"}]}""", "anyOf")]
    [InlineData("""true""", "type")]
    public void RootMustBeAnObject(string json, string keyword)
    {
        InvalidSchemaException ex = Assert.Throws<InvalidSchemaException>(() => JsonGrammar.FromSchema(Parse(json)));
        Assert.Equal(keyword, ex.Keyword);
        Assert.Contains("schema must be a JSON Schema of 'type: \"object\"'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"type":"strin"}}}""", "type")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","minItems":3,"maxItems":2}}}""", "minItems")]
    [InlineData("""{"type":"object","properties":{},"required":["ghost"]}""", "required")]
    [InlineData("""{"type":"object","properties":{"a":{"$ref":"#/$defs/missing"}}}""", "$ref")]
    [InlineData("""{"type":"object","properties":{"n":{"$ref":"#"}},"required":["n"]}""", "$ref")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"string","minLength":-1}}}""", "minLength")]
    public void MalformedOrUnsatisfiableSchemasAreInvalid(string json, string keyword)
    {
        InvalidSchemaException ex = Assert.Throws<InvalidSchemaException>(() => JsonGrammar.FromSchema(Parse(json)));
        Assert.Equal(keyword, ex.Keyword);
    }

    [Fact]
    public void ReferenceCycleWithoutProgressIsRefused()
    {
        JsonElement schema = Parse("""{"type":"object","properties":{"a":{"$ref":"#/$defs/x"}},"$defs":{"x":{"anyOf":[{"$ref":"#/$defs/x"},{"type":"null"}]}}}""");
        UnsupportedSchemaException ex = Assert.Throws<UnsupportedSchemaException>(() => JsonGrammar.FromSchema(schema));
        Assert.Equal("$ref", ex.Keyword);
    }

    [Fact]
    public void AnnotationsAndVendorExtensionsAreIgnored()
    {
        JsonElement schema = Parse("""
            {"type":"object","title":"T","description":"d","$comment":"c","x-order":1,"properties":{"a":{"type":"string","default":"x","examples":["y"],"deprecated":false}},"required":["a"],"additionalProperties":false}
            """);
        Assert.NotNull(JsonGrammar.FromSchema(schema));
    }
}
