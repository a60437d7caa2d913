using System.IO.Compression;
using System.Text;
using Capa.Engine.Text.Generation;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Whisper.Decoding;

/// <summary>What to decode in one 30-second window (openai/whisper's <c>DecodingOptions</c>).</summary>
internal sealed record WindowOptions
{
    public required string Task { get; init; }

    public required string? Language { get; init; }

    public float Temperature { get; init; }

    public bool WithoutTimestamps { get; init; }

    /// <summary>Previous text (or the caller's prompt) as token ids; the last (context / 2 − 1) are used.</summary>
    public IReadOnlyList<int> Prompt { get; init; } = [];

    /// <summary>Seed and stream of the sampling noise for temperature &gt; 0.</summary>
    public ulong Seed { get; init; }

    public uint Stream { get; init; }
}

/// <summary>The outcome of one window (openai/whisper's <c>DecodingResult</c>).</summary>
internal sealed record WindowResult(
    IReadOnlyList<int> Tokens,
    IReadOnlyList<float> TokenLogprobs,
    string Text,
    double AvgLogprob,
    double NoSpeechProb,
    float Temperature,
    double CompressionRatio);

/// <summary>Greedy or seeded-sampling decoding of one window with openai/whisper's logit filters.</summary>
internal sealed class WindowDecoder
{
    private readonly WhisperOnnxModel _model;
    private readonly WhisperTokens _tokens;

    public WindowDecoder(WhisperOnnxModel model)
    {
        _model = model;
        _tokens = model.Folder.Tokens;
    }

    /// <summary>The initial tokens: [&lt;|startofprev|&gt; prompt…] &lt;|startoftranscript|&gt; [language task] [&lt;|notimestamps|&gt;].</summary>
    public List<int> InitialTokens(WindowOptions options)
    {
        var initial = new List<int>();
        if (options.Prompt.Count > 0 && _tokens.StartOfPrevious is { } prev)
        {
            int keep = Math.Min(options.Prompt.Count, (_model.Folder.TextContext / 2) - 1);
            initial.Add(prev);
            initial.AddRange(options.Prompt.Skip(options.Prompt.Count - keep));
        }

        initial.Add(_tokens.StartOfTranscript);
        if (_tokens.IsMultilingual)
        {
            string language = options.Language ?? "en";
            initial.Add(_tokens.Languages.TryGetValue(language, out int id)
                ? id
                : throw new ArgumentException($"The model has no language token for '{language}'.", nameof(options)));
            initial.Add(options.Task == "translate" ? _tokens.Translate : _tokens.Transcribe);
        }

        if (options.WithoutTimestamps)
        {
            initial.Add(_tokens.NoTimestamps);
        }

        return initial;
    }

    /// <summary>Language probabilities from the logits after &lt;|startoftranscript|&gt; (openai/whisper's <c>detect_language</c>).</summary>
    public IReadOnlyDictionary<string, double> DetectLanguage(OrtValue encoderStates)
    {
        if (!_tokens.IsMultilingual)
        {
            return new Dictionary<string, double>(StringComparer.Ordinal) { ["en"] = 1.0 };
        }

        using WhisperDecoding decoding = _model.StartDecoding(encoderStates);
        float[] logits = decoding.Step([_tokens.StartOfTranscript]).ToArray();
        double max = _tokens.Languages.Values.Max(id => (double)logits[id]);
        double sum = _tokens.Languages.Values.Sum(id => Math.Exp(logits[id] - max));
        return _tokens.Languages.ToDictionary(l => l.Key, l => Math.Exp(logits[l.Value] - max) / sum, StringComparer.Ordinal);
    }

    public WindowResult Decode(OrtValue encoderStates, WindowOptions options, CancellationToken cancellationToken)
    {
        List<int> initial = InitialTokens(options);
        int sampleBegin = initial.Count;
        int sotIndex = initial.IndexOf(_tokens.StartOfTranscript);
        int sampleLength = _model.Folder.TextContext / 2;
        int vocab = _model.Folder.VocabSize;
        int textTokens = Math.Min(vocab, _model.Folder.Tokenizer.VocabSize);
        var sampled = new List<int>();
        var logprobs = new List<float>();
        double sumLogprob = 0, noSpeechProb = double.NaN;
        using WhisperDecoding decoding = _model.StartDecoding(encoderStates);
        long[] feed = [.. initial.Select(t => (long)t)];
        for (int step = 0; step < sampleLength && initial.Count + sampled.Count < _model.Folder.TextContext; step++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            Span<float> all = decoding.Step(feed).Span;
            int rows = all.Length / vocab;
            if (step == 0 && _tokens.NoSpeech is { } noSpeech)
            {
                noSpeechProb = Softmax(all.Slice(sotIndex * vocab, vocab), noSpeech);
            }

            Span<float> logits = all.Slice((rows - 1) * vocab, vocab);
            // Rows past the tokenizer's ids (padded embeddings) name no token.
            logits[textTokens..].Fill(float.NegativeInfinity);
            ApplyFilters(logits, sampled, options);
            int next = options.Temperature > 0
                ? SampleSeeded(logits, options.Temperature, options.Seed, options.Stream, (ulong)step)
                : ArgMax(logits);
            float logprob = LogSoftmaxAt(logits, next);
            if (next == _tokens.EndOfText)
            {
                sumLogprob += logprob;
                break;
            }

            sumLogprob += logprob;
            sampled.Add(next);
            logprobs.Add(logprob);
            feed = [next];
        }

        string text = Decode(sampled).Trim();
        return new WindowResult(
            sampled,
            logprobs,
            text,
            sumLogprob / (sampled.Count + 1),
            double.IsNaN(noSpeechProb) ? 0 : noSpeechProb,
            options.Temperature,
            CompressionRatio(text));
    }

    /// <summary>Decodes the text tokens of <paramref name="ids"/> (timestamps and special tokens dropped).</summary>
    public string Decode(IEnumerable<int> ids) =>
        _model.Folder.Tokenizer.Decode([.. ids.Where(id => id < _tokens.EndOfText)]);

    private void ApplyFilters(Span<float> logits, List<int> sampled, WindowOptions options)
    {
        if (sampled.Count == 0)
        {
            foreach (int id in _tokens.BeginSuppress)
            {
                Suppress(logits, id);
            }
        }

        foreach (int id in _tokens.Suppress)
        {
            Suppress(logits, id);
        }

        if (!options.WithoutTimestamps)
        {
            TimestampRules.Apply(logits, System.Runtime.InteropServices.CollectionsMarshal.AsSpan(sampled), _tokens, _tokens.MaxInitialTimestampIndex);
        }
    }

    private static void Suppress(Span<float> logits, int id)
    {
        if ((uint)id < (uint)logits.Length)
        {
            logits[id] = float.NegativeInfinity;
        }
    }

    private static int ArgMax(ReadOnlySpan<float> logits)
    {
        int best = 0;
        for (int i = 1; i < logits.Length; i++)
        {
            if (logits[i] > logits[best])
            {
                best = i;
            }
        }

        return best;
    }

    /// <summary>Samples from softmax(logits / T) by inverse CDF on a Philox uniform addressed by (seed, stream, step).</summary>
    private static int SampleSeeded(ReadOnlySpan<float> logits, float temperature, ulong seed, uint stream, ulong step)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }

        double total = 0;
        foreach (float v in logits)
        {
            total += Math.Exp((v - max) / temperature);
        }

        double target = Philox4x32.Uniform(seed, stream, step) * total;
        double cumulative = 0;
        int last = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            if (float.IsNegativeInfinity(logits[i]))
            {
                continue;
            }

            cumulative += Math.Exp((logits[i] - max) / temperature);
            last = i;
            if (cumulative > target)
            {
                return i;
            }
        }

        return last;
    }

    private static float LogSoftmaxAt(ReadOnlySpan<float> logits, int index)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits)
        {
            max = Math.Max(max, v);
        }

        double sum = 0;
        foreach (float v in logits)
        {
            sum += Math.Exp(v - max);
        }

        return (float)(logits[index] - max - Math.Log(sum));
    }

    private static double Softmax(ReadOnlySpan<float> logits, int index) => Math.Exp(LogSoftmaxAt(logits, index));

    /// <summary>UTF-8 length over zlib-compressed length, as openai/whisper's <c>compression_ratio</c>.</summary>
    internal static double CompressionRatio(string text)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text);
        if (bytes.Length == 0)
        {
            return 0;
        }

        using var buffer = new MemoryStream();
        using (var zlib = new ZLibStream(buffer, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(bytes);
        }

        return bytes.Length / (double)buffer.Length;
    }
}
