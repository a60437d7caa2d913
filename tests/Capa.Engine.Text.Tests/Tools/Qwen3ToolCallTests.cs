using System.Text;
using System.Text.Json;
using Capa.Constraints.Grammars;
using Capa.Engine.Text.Constraints;
using Capa.Engine.Text.Generation;
using Capa.Models.Config;
using Capa.Engine.Text.Tests.Constraints;
using Capa.Engine.Text.Tools;
using Capa.Tokenizers;

namespace Capa.Engine.Text.Tests.Tools;

/// <summary>The real Qwen3 vocabulary (151,669 tokens): its template's format and forced calls over its tokens.</summary>
public sealed class Qwen3ToolCallTests
{
    [RequiresQwen3TokenizerFact]
    public void Qwen3_TemplateMeansHermes_AndForcedCallsParse()
    {
        var folder = RequiresQwen3TokenizerFactAttribute.Folder!;
        var hf = HfTokenizer.FromFolder(folder);
        var tokenizer = new HfGenerationTokenizer(hf);
        Assert.Same(ToolCallFormat.Hermes, ToolCallFormat.Detect(File.ReadAllText(Path.Combine(folder, "chat_template.jinja")), ModelFamily.Qwen3));

        // <tool_call> is one added, non-special token: the mask may use it, and the text keeps it.
        var open = hf.TokenToId("<tool_call>")!.Value;
        Assert.False(tokenizer.IsSpecial(open));
        var eos = hf.TokenToId("<|im_end|>")!.Value;
        var vocabulary = ConstraintVocabularies.Get(tokenizer, [eos, hf.TokenToId("<|endoftext|>")!.Value]);
        Assert.Equal("<tool_call>", Encoding.UTF8.GetString(vocabulary.GetBytes(open)));
        Assert.True(vocabulary.GetBytes(hf.TokenToId("<|im_start|>")!.Value).IsEmpty);

        using var schema = JsonDocument.Parse("""{"type":"object","properties":{"city":{"type":"string","maxLength":6},"days":{"type":"integer","minimum":1,"maximum":5}},"required":["city","days"],"additionalProperties":false}""");
        var constraint = new ConstraintCompiler(vocabulary).ToolCalls(ToolCallFormat.Hermes, [new ToolDefinition("forecast", schema.RootElement)], parallel: false, strict: true);
        for (var seed = 0; seed < 4; seed++)
        {
            var tokens = ConstraintLogitsProcessorTests.Walk(new ConstraintLogitsProcessor(constraint.CreateState()), tokenizer.VocabSize, seed, 200, eos);
            Assert.True(vocabulary.IsEndOfSequence(tokens[^1]));
            var text = hf.Decode([.. tokens], skipSpecialTokens: true);
            var call = Assert.Single(ToolCallParser.Parse(text, ToolCallFormat.Hermes, ["forecast"]).ToolCalls);
            using var args = JsonDocument.Parse(call.Arguments);
            Assert.InRange(args.RootElement.GetProperty("days").GetInt32(), 1, 5);
        }
    }
}
