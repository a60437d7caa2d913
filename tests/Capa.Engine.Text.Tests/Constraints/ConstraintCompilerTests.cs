using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Engine.Text.Tools;

namespace Capa.Engine.Text.Tests.Constraints;

public sealed class ConstraintCompilerTests
{
    private static readonly SyntheticTokenizer Tokenizer = new();

    private static ConstraintCompiler Compiler(int capacity = ConstraintCompiler.DefaultCapacity) =>
        new(ConstraintVocabularies.Build(Tokenizer, [Tokenizer.EosId]), capacity);

    [Theory]
    [InlineData("""{"type":"object","properties":{"a":{"oneOf":[{"type":"string"}]}}}""", "oneOf", "#/properties/a")]
    [InlineData("""{"type":"object","properties":{"a":{"type":"array","items":{"type":"string","contentEncoding":"base64"}}}}""", "contentEncoding", "#/properties/a/items")]
    [InlineData("""{"type":"object","patternProperties":{"^x":{"type":"string"}}}""", "patternProperties", "#")]
    [InlineData("""{"type":"object","properties":{"n":{"type":"number","multipleOf":3}}}""", "multipleOf", "#/properties/n")]
    public void UnsupportedKeyword_IsAClientErrorNamingKeywordAndPath(string schema, string keyword, string path)
    {
        using var doc = JsonDocument.Parse(schema);
        var ex = Assert.Throws<GenerationRequestException>(() => Compiler().JsonSchema("s", doc.RootElement, strict: false));
        Assert.Equal("response_format", ex.Param);
        Assert.Contains($"'{keyword}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void InvalidSchema_IsAClientError()
    {
        using var doc = JsonDocument.Parse("""{"type":"string"}""");
        var ex = Assert.Throws<GenerationRequestException>(() => Compiler().JsonSchema("s", doc.RootElement, strict: true));
        Assert.Equal("response_format", ex.Param);
        Assert.Contains("'type'", ex.Message, StringComparison.Ordinal);
        Assert.Equal("invalid_schema", ex.Code);
    }

    [Fact]
    public void ToolSchemaErrors_NameTheToolsParameter()
    {
        using var doc = JsonDocument.Parse("""{"type":"object","properties":{"a":{"not":{"type":"string"}}}}""");
        var ex = Assert.Throws<GenerationRequestException>(() =>
            Compiler().ToolCalls(ToolCallFormat.Hermes, [new ToolDefinition("f", doc.RootElement)], parallel: false));
        Assert.Equal("tools", ex.Param);
        Assert.Contains("'not'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Constraints_AreCachedPerKey_WithBoundedCapacity()
    {
        var compiler = Compiler(capacity: 2);
        var json = compiler.JsonObject();
        Assert.Same(json, compiler.JsonObject());
        using var a = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"string"}}}""");
        using var b = JsonDocument.Parse("""{"type":"object","properties":{"b":{"type":"string"}}}""");
        using var strictA = JsonDocument.Parse("""{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}""");
        var first = compiler.JsonSchema("a", a.RootElement, false);
        Assert.Same(first, compiler.JsonSchema("a", a.RootElement, false));
        Assert.NotSame(first, compiler.JsonSchema("a", strictA.RootElement, true));
        Assert.NotSame(json, compiler.JsonObject()); // evicted by the two newer entries
        Assert.NotSame(first, compiler.JsonSchema("a", a.RootElement, false)); // evicted as well
        _ = compiler.JsonSchema("b", b.RootElement, false);
    }

    [Fact]
    public void ProcessorFactory_GivesEachChoiceItsOwnState()
    {
        var factory = ConstraintCompiler.ProcessorFactory(Compiler().JsonObject());
        var a = (ConstraintLogitsProcessor)factory(0);
        var b = (ConstraintLogitsProcessor)factory(1);
        Assert.NotSame(a.State, b.State);
        a.Process(new float[Tokenizer.VocabSize], ['{']);
        Assert.Equal(1, a.State.TokenCount);
        Assert.Equal(0, b.State.TokenCount);
    }
}
