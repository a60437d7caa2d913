using Capa.Engine.Text.Generation;
using Capa.Models;
using Capa.TestModels;
using Capa.TestModels.Tests;

namespace Capa.Engine.Text.Tests.Generation;

/// <summary>
/// The engine's whole greedy path (chat template, tokenizer, chunked prefill, KV-cache decode, sampler, end-of-sequence
/// handling) picks the same tokens as <c>@huggingface/transformers</c> on the same folder.
/// </summary>
public sealed class GreedyOracleEngineTests(TinyModels models) : IClassFixture<TinyModels>
{
    private const int NewTokens = 16;

    public static TheoryData<TestModelArch, ModelVariant> Cases => new()
    {
        { TestModelArch.Qwen2, ModelVariant.Fp32 },
        { TestModelArch.Qwen2, ModelVariant.Q4 },
        { TestModelArch.Llama, ModelVariant.Fp32 },
        { TestModelArch.Phi3, ModelVariant.Fp32 },
        { TestModelArch.Gemma, ModelVariant.Fp32 },
    };

    [OracleTheory]
    [MemberData(nameof(Cases))]
    public async Task Engine_GeneratesTheSameGreedyTokens_AsTransformersJs(TestModelArch arch, ModelVariant variant)
    {
        using var model = LocalChatModel.Load(models.Get(arch), new LocalChatModelOptions
        {
            Variant = variant,
            // The file's own MatMulNBits accuracy level, as transformers.js runs it.
            Decoder = new OnnxDecoderOptions { IntraOpThreads = 1, PrefillChunkTokens = 256, MatMulNBitsAccuracyLevel = null },
            DigestCachePath = Path.Combine(models.Root, $"oracle-digests-{arch}.json"),
        });
        var prompt = model.Tokenize(model.RenderPrompt(new Dictionary<string, object?>
        {
            ["messages"] = new List<object?> { new Dictionary<string, object?> { ["role"] = "user", ["content"] = "谁获得了2022年英雄联盟S赛世界冠军？" } },
        }));

        using var oracle = Oracle.Run("--model", models.Get(arch), "--dtype", variant.Name(), "--max-new-tokens", NewTokens.ToString(System.Globalization.CultureInfo.InvariantCulture), "--ids", string.Join(',', prompt));
        int[] expected = [.. oracle.RootElement.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32())];

        var generated = new List<int>();
        model.Engine.Observer = null;
        using var stream = await model.StartAsync(new GenerationRequest { PromptTokens = prompt, MaxTokens = NewTokens, Sampling = new() { Temperature = 0, Logprobs = true } });
        var result = await stream.CollectAsync();
        generated.AddRange(result.Choices[0].Logprobs!.Select(l => l.TokenId));
        if (result.Choices[0].CompletionTokens > generated.Count)
        {
            // The end-of-sequence token ends the choice and carries no logprob entry; transformers.js lists it.
            generated.Add(expected.Length > generated.Count ? expected[generated.Count] : -1);
            Assert.Contains(generated[^1], model.Engine.EosTokenIds);
        }

        var diverge = Enumerable.Range(0, Math.Min(expected.Length, generated.Count)).FirstOrDefault(i => expected[i] != generated[i], -1);
        if (diverge >= 0)
        {
            // Two runtimes may order a near-tie differently (kernels differ in the last bits); that is the only accepted
            // difference: at the first divergence both tokens must be within 1e-4 of each other under this engine's logits.
            using var sequence = model.Decoder.CreateSequence();
            var logits = sequence.Forward([.. prompt, .. generated.Take(diverge)]).ToArray();
            Assert.True(Math.Abs(logits[expected[diverge]] - logits[generated[diverge]]) < 1e-4f,
                $"Divergence at token {diverge}: transformers.js picked {expected[diverge]} ({logits[expected[diverge]]}), the engine {generated[diverge]} ({logits[generated[diverge]]}).");
            return;
        }

        Assert.Equal(expected, generated);
    }
}
