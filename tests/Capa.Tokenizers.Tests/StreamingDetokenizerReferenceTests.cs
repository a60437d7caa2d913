using System.Collections.Concurrent;
using System.Text;
using Capa.Tokenizers.Tests.Oracle;
using Capa.Tokenizers.Text;
using Xunit.Abstractions;

namespace Capa.Tokenizers.Tests;

/// <summary>
/// The incremental <see cref="StreamingDetokenizer"/> against the windowed decode it replaced (<see cref="WindowedDetokenizer"/>)
/// and against the decode of the whole sequence, token by token, for the real tokenizers (Gemma 3, Llama 2, Llama 3,
/// Qwen 3: byte-level BPE, SentencePiece with byte fallback and a stripped leading space, clean-up of spaces) and the
/// fixtures; and what a token costs it in allocations.
/// </summary>
public sealed class StreamingDetokenizerReferenceTests(ITestOutputHelper output)
{
    private static readonly ConcurrentDictionary<string, HfTokenizer> Real = new();

    private static HfTokenizer Load(string name) => Real.GetOrAdd(name, n => HfTokenizer.FromFolder(TestPaths.RealTokenizerDir(n)));

    [RealTokenizerFact("gemma3")]
    public void Gemma3_StreamsTheCorpusAsTheWindowedDecodeDid() => CompareWithReference(Load("gemma3"));

    [RealTokenizerFact("llama2")]
    public void Llama2_StreamsTheCorpusAsTheWindowedDecodeDid() => CompareWithReference(Load("llama2"));

    [RealTokenizerFact("llama3")]
    public void Llama3_StreamsTheCorpusAsTheWindowedDecodeDid() => CompareWithReference(Load("llama3"));

    [RealTokenizerFact("qwen3")]
    public void Qwen3_StreamsTheCorpusAsTheWindowedDecodeDid() => CompareWithReference(Load("qwen3"));

    [Qwen3Fact]
    public void Qwen3SlowFiles_StreamTheCorpusAsTheWindowedDecodeDid() => CompareWithReference(HfTokenizer.FromFolder(TestPaths.Qwen3Dir));

    [Fact]
    public void Fixtures_StreamTheCorpusAsTheWindowedDecodeDid()
    {
        CompareWithReference(HfTokenizer.FromJson(Fixtures.SentencePieceLegacy(), Fixtures.SentencePieceConfig()));
        CompareWithReference(HfTokenizer.FromJson(Fixtures.SentencePieceMetaspace(), Fixtures.SentencePieceConfig()));
        CompareWithReference(HfTokenizer.FromJson(Fixtures.ByteLevelLlama3(), Fixtures.Llama3Config()));
    }

    [RealTokenizerFact("gemma3")]
    public void Gemma3_RandomIds_ConcatenateToTheWholeDecode() => RandomIds(Load("gemma3"));

    [RealTokenizerFact("llama2")]
    public void Llama2_RandomIds_ConcatenateToTheWholeDecode() => RandomIds(Load("llama2"));

    [RealTokenizerFact("llama3")]
    public void Llama3_RandomIds_ConcatenateToTheWholeDecode() => RandomIds(Load("llama3"));

    [RealTokenizerFact("qwen3")]
    public void Qwen3_RandomIds_ConcatenateToTheWholeDecode() => RandomIds(Load("qwen3"));

    [Fact]
    public void Fixtures_RandomIds_ConcatenateToTheWholeDecode()
    {
        RandomIds(HfTokenizer.FromJson(Fixtures.SentencePieceLegacy(), Fixtures.SentencePieceConfig()));
        RandomIds(HfTokenizer.FromJson(Fixtures.SentencePieceMetaspace(), Fixtures.SentencePieceConfig()));
        RandomIds(HfTokenizer.FromJson(Fixtures.ByteLevelLlama3(), Fixtures.Llama3Config()));
    }

    [Fact]
    public void Append_AllocatesNothingButTheTextItReturns_Fixtures()
    {
        AssertAllocationFree(HfTokenizer.FromJson(Fixtures.ByteLevelLlama3(), Fixtures.Llama3Config()));
        AssertAllocationFree(HfTokenizer.FromJson(Fixtures.SentencePieceLegacy(), Fixtures.SentencePieceConfig()));
        AssertAllocationFree(HfTokenizer.FromJson(Fixtures.SentencePieceMetaspace(), Fixtures.SentencePieceConfig()));
    }

    [RealTokenizerFact("qwen3")]
    public void Append_AllocatesNothingButTheTextItReturns_Qwen3() => AssertAllocationFree(Load("qwen3"));

    [RealTokenizerFact("gemma3")]
    public void Append_AllocatesNothingButTheTextItReturns_Gemma3() => AssertAllocationFree(Load("gemma3"));

    private static IEnumerable<string> Corpus() =>
        OracleCorpus.General.Concat(OracleCorpus.Seed()).Concat(OracleCorpus.Random(200, seed: 20261206));

    // Every text, encoded with and without special tokens, streamed skipping them and keeping them: the same text in
    // all as the windowed decode and as the whole decode, never behind the windowed decode, never half a character.
    private void CompareWithReference(HfTokenizer tokenizer)
    {
        var failures = new StringBuilder();
        int tokens = 0;
        int samePieces = 0;
        foreach (string text in Corpus())
        {
            foreach (bool addSpecial in new[] { false, true })
            {
                int[] ids = tokenizer.Encode(text, addSpecial);
                foreach (bool skipSpecial in new[] { true, false })
                {
                    var incremental = tokenizer.CreateStreamingDetokenizer(skipSpecial);
                    var windowed = new WindowedDetokenizer(tokenizer, skipSpecial);
                    var ours = new StringBuilder();
                    var theirs = new StringBuilder();
                    string? failure = null;
                    foreach (int id in ids)
                    {
                        string mine = incremental.Append(id);
                        string reference = windowed.Append(id);
                        ours.Append(mine);
                        theirs.Append(reference);
                        tokens++;
                        samePieces += mine == reference ? 1 : 0;
                        if (failure is null && !ours.ToString().StartsWith(theirs.ToString(), StringComparison.Ordinal))
                        {
                            failure = $"behind the windowed decode after id {id}: {Show(ours.ToString())} vs {Show(theirs.ToString())}";
                        }

                        if (failure is null && mine.Contains('\uFFFD', StringComparison.Ordinal) && !text.Contains('\uFFFD', StringComparison.Ordinal))
                        {
                            failure = $"half a character after id {id}: {Show(mine)}";
                        }
                    }

                    ours.Append(incremental.Flush());
                    theirs.Append(windowed.Flush());
                    string whole = tokenizer.Decode(ids, skipSpecial);
                    if (failure is null && ours.ToString() != theirs.ToString())
                    {
                        failure = $"streams differ: {Show(ours.ToString())} vs windowed {Show(theirs.ToString())}";
                    }

                    if (failure is null && ours.ToString() != whole)
                    {
                        failure = $"stream {Show(ours.ToString())} vs decode {Show(whole)}";
                    }

                    if (failure is not null)
                    {
                        failures.AppendLine($"{Show(text)} (add_special={addSpecial}, skip_special={skipSpecial}): {failure}");
                    }
                }
            }
        }

        output.WriteLine($"{tokens} tokens streamed, {samePieces} returned the same piece as the windowed decode.");
        Assert.True(failures.Length == 0, failures.ToString());
    }

    // Random ids, half of them single-byte tokens, so characters are cut and invalid sequences abound. Byte-level text
    // equals the whole decode exactly; byte-fallback text wherever the whole decode has no invalid run (an invalid run is
    // U+FFFD per byte once the run has ended, while the stream has already returned the valid characters at its start).
    private static void RandomIds(HfTokenizer tokenizer)
    {
        var shape = tokenizer.StreamShape;
        var byteIds = new List<int>();
        for (int b = 0; b < 256; b++)
        {
            string name = shape.ByteLevel ? ByteLevelAlphabet.Encode((byte)b).ToString() : $"<0x{b:X2}>";
            if (tokenizer.TokenToId(name) is { } id)
            {
                byteIds.Add(id);
            }
        }

        string[] characters = ["中", "é", "😀", "𠀀", "ж", "👍🏽", "a", " "];
        var rng = new Random(4242);
        var failures = new StringBuilder();
        int compared = 0;
        for (int sequence = 0; sequence < 300; sequence++)
        {
            // Odd sequences spell whole characters in byte tokens (valid text cut at every byte); even ones add stray bytes too.
            bool strayBytes = sequence % 2 == 0;
            var ids = new List<int>();
            int length = rng.Next(1, 40);
            while (ids.Count < length)
            {
                int pick = rng.Next(3);
                if (pick == 0 || byteIds.Count < 256)
                {
                    ids.Add(rng.Next(tokenizer.VocabSize));
                }
                else if (pick == 1 && strayBytes)
                {
                    ids.Add(byteIds[rng.Next(byteIds.Count)]);
                }
                else
                {
                    ids.AddRange(Encoding.UTF8.GetBytes(characters[rng.Next(characters.Length)]).Select(b => byteIds[b]));
                }
            }

            foreach (bool skipSpecial in new[] { true, false })
            {
                var detokenizer = tokenizer.CreateStreamingDetokenizer(skipSpecial);
                string streamed = string.Concat(ids.Select(detokenizer.Append)) + detokenizer.Flush();
                string whole = tokenizer.Decode(ids.ToArray(), skipSpecial);
                if (shape.ByteFallback && whole.Contains('\uFFFD', StringComparison.Ordinal))
                {
                    continue;
                }

                compared++;
                if (streamed != whole && failures.Length < 4000)
                {
                    failures.AppendLine($"[{string.Join(",", ids)}] skip_special={skipSpecial}: stream {Show(streamed)} vs decode {Show(whole)}");
                }
            }
        }

        Assert.True(compared > 100, $"only {compared} sequences compared");
        Assert.True(failures.Length == 0, failures.ToString());
    }

    // After a warm-up (the token table, the buffers' growth), streaming the corpus allocates the returned strings and
    // nothing else; the windowed decode's cost is printed beside it.
    private void AssertAllocationFree(HfTokenizer tokenizer)
    {
        int[][] sequences = [.. Corpus().Select(t => tokenizer.Encode(t))];
        var detokenizer = tokenizer.CreateStreamingDetokenizer();
        Func<int, string> append = detokenizer.Append;
        Func<string> flush = detokenizer.Flush;
        var returned = new List<string>(sequences.Sum(s => s.Length) + sequences.Length);
        Stream(append, flush, sequences, returned);
        returned.Clear();

        long start = GC.GetAllocatedBytesForCurrentThread();
        Stream(append, flush, sequences, returned);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - start;

        // A string is a 20-byte header and length plus two bytes a character and a terminator, rounded up to 8 bytes.
        long strings = returned.Where(s => s.Length > 0).Sum(s => (22L + (2L * s.Length) + 7) & ~7L);
        int tokenCount = sequences.Sum(s => s.Length);
        var windowed = new WindowedDetokenizer(tokenizer, skipSpecialTokens: true);
        var ignored = new List<string>(returned.Capacity);
        long windowedStart = GC.GetAllocatedBytesForCurrentThread();
        Stream(windowed.Append, windowed.Flush, sequences, ignored);
        long windowedAllocated = GC.GetAllocatedBytesForCurrentThread() - windowedStart;
        output.WriteLine($"{tokenCount} tokens: incremental {allocated / (double)tokenCount:F1} B/token ({strings / (double)tokenCount:F1} of it the returned text), windowed {windowedAllocated / (double)tokenCount:F1} B/token");

        Assert.InRange(allocated, 0, strings);
    }

    private static void Stream(Func<int, string> append, Func<string> flush, int[][] sequences, List<string> returned)
    {
        foreach (int[] ids in sequences)
        {
            foreach (int id in ids)
            {
                returned.Add(append(id));
            }

            returned.Add(flush());
        }
    }

    private static string Show(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
