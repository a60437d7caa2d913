using Capa.Engine.Whisper.Decoding;
using Capa.Engine.Whisper.Features;
using Capa.Engine.Whisper.Timing;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Whisper;

/// <summary>
/// openai/whisper's <c>transcribe</c>: log-mel features of the whole audio, language detection when none is given, then
/// a sequential 30-second seek loop. Each window is decoded with temperature fallback, skipped when it is silence,
/// split into segments at its timestamp pairs, and the next window starts at the last complete segment's end, so
/// timestamps stay absolute and non-decreasing. With word timestamps, each window's words are timed from the alignment
/// heads' cross-attentions (<see cref="WordAligner"/>).
/// </summary>
public sealed class WhisperTranscriber
{
    private static readonly float[] FallbackStep = [0.2f];
    private readonly WhisperOnnxModel _model;
    private readonly LogMelSpectrogram _spectrogram;
    private readonly WindowDecoder _decoder;
    private readonly WordAligner? _aligner;

    /// <summary>Creates a transcriber on loaded sessions.</summary>
    public WhisperTranscriber(WhisperOnnxModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        _model = model;
        WhisperModelFolder folder = model.Folder;
        _spectrogram = folder.MelFilters is { } filters ? new LogMelSpectrogram(folder.MelBins, filters) : new LogMelSpectrogram(folder.MelBins);
        _decoder = new WindowDecoder(model);
        _aligner = model.HasCrossAttentions ? new WordAligner(model, _decoder) : null;
    }

    /// <summary>Whether the model can time words (its decoder outputs cross-attentions).</summary>
    public bool SupportsWordTimestamps => _aligner is not null;

    /// <summary>Whether the model can translate and name languages (multilingual), rather than English only.</summary>
    public bool IsMultilingual => _model.Folder.Tokens.IsMultilingual;

    /// <summary>The languages the model knows (codes).</summary>
    public IReadOnlyCollection<string> Languages => _model.Folder.Tokens.IsMultilingual ? [.. _model.Folder.Tokens.Languages.Keys] : ["en"];

    /// <summary>Transcribes 16 kHz mono samples.</summary>
    /// <param name="samples">The audio.</param>
    /// <param name="options">Task, language, prompt, temperature, thresholds.</param>
    /// <param name="progress">Seconds of audio done, after each window.</param>
    /// <param name="cancellationToken">Stops between decoding steps.</param>
    /// <param name="segmentDone">Called with each segment as soon as its window is decoded (for streaming).</param>
    /// <exception cref="ArgumentException">The language is not one the model knows, or the task is neither transcribe nor translate.</exception>
    /// <exception cref="NotSupportedException">Word timestamps are asked of a model without cross-attention outputs.</exception>
    public WhisperTranscript Transcribe(
        ReadOnlySpan<float> samples,
        WhisperTranscriptionOptions options,
        IProgress<WhisperProgress>? progress = null,
        CancellationToken cancellationToken = default,
        Action<WhisperSegment>? segmentDone = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Task is not ("transcribe" or "translate"))
        {
            throw new ArgumentException($"Unknown task '{options.Task}'.", nameof(options));
        }

        if (options.WordTimestamps && _aligner is null)
        {
            throw new NotSupportedException("This Whisper export has no cross-attention outputs, so it cannot give word timestamps.");
        }

        WhisperTokens tokens = _model.Folder.Tokens;
        string? language = options.Language;
        if (language is not null && tokens.IsMultilingual && !tokens.Languages.ContainsKey(language))
        {
            throw new ArgumentException($"The model does not know the language '{language}'.", nameof(options));
        }

        float[] mel = _spectrogram.Compute(samples, WhisperAudio.ChunkSamples, out int frames);
        int contentFrames = frames - WhisperAudio.ChunkFrames;
        double duration = samples.Length / (double)WhisperAudio.SampleRate;
        var window = new float[_model.Folder.MelBins * WhisperAudio.ChunkFrames];
        int inputStride = WhisperAudio.ChunkFrames / _model.Folder.AudioContext;
        double timePrecision = inputStride * WhisperAudio.SecondsPerFrame;

        if (language is null)
        {
            if (tokens.IsMultilingual)
            {
                LogMelSpectrogram.Slice(mel, _model.Folder.MelBins, frames, 0, window);
                using OrtValue states = _model.Encode(window);
                language = _decoder.DetectLanguage(states).MaxBy(p => p.Value).Key;
            }
            else
            {
                language = "en";
            }
        }

        var allTokens = new List<int>();
        var segments = new List<WhisperSegment>();
        int promptResetSince = 0;
        int initialPromptLength = 0;
        if (!string.IsNullOrWhiteSpace(options.Prompt))
        {
            allTokens.AddRange(_model.Folder.Tokenizer.Encode(" " + options.Prompt.Trim()));
            initialPromptLength = allTokens.Count;
        }

        float[] temperatures = Temperatures(options.Temperature);
        double lastSpeechTimestamp = 0, previousEnd = 0;
        int seek = 0;
        uint windowIndex = 0;
        while (seek < contentFrames)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int windowSeek = seek;
            double timeOffset = seek * WhisperAudio.SecondsPerFrame;
            int segmentSize = Math.Min(WhisperAudio.ChunkFrames, contentFrames - seek);
            double segmentDuration = segmentSize * WhisperAudio.SecondsPerFrame;
            LogMelSpectrogram.Slice(mel, _model.Folder.MelBins, frames, seek, window);
            // Disposed at the end of each window: word timestamps read the states again after decoding.
            using OrtValue states = _model.Encode(window);
            WindowResult result = DecodeWithFallback(states, options, language, temperatures, allTokens.Skip(promptResetSince).ToList(), windowIndex++, cancellationToken);

            if (result.NoSpeechProb > options.NoSpeechThreshold && result.AvgLogprob <= options.LogprobThreshold)
            {
                seek += segmentSize;
                progress?.Report(new WhisperProgress(Math.Min(duration, seek * WhisperAudio.SecondsPerFrame), duration));
                continue;
            }

            var current = new List<(double Start, double End, List<int> Tokens, List<float> Logprobs)>();
            IReadOnlyList<int> sampled = result.Tokens;
            int begin = tokens.TimestampBegin;
            bool IsTimestamp(int i) => sampled[i] >= begin;
            bool singleTimestampEnding = sampled.Count >= 2 && !IsTimestamp(sampled.Count - 2) && IsTimestamp(sampled.Count - 1);
            var consecutive = new List<int>();
            for (int i = 1; i < sampled.Count; i++)
            {
                if (IsTimestamp(i - 1) && IsTimestamp(i))
                {
                    consecutive.Add(i);
                }
            }

            if (consecutive.Count > 0)
            {
                if (singleTimestampEnding)
                {
                    consecutive.Add(sampled.Count);
                }

                int lastSlice = 0;
                foreach (int slice in consecutive)
                {
                    List<int> part = [.. sampled.Skip(lastSlice).Take(slice - lastSlice)];
                    List<float> partLogprobs = [.. result.TokenLogprobs.Skip(lastSlice).Take(slice - lastSlice)];
                    current.Add((timeOffset + ((part[0] - begin) * timePrecision), timeOffset + ((part[^1] - begin) * timePrecision), part, partLogprobs));
                    lastSlice = slice;
                }

                if (singleTimestampEnding)
                {
                    seek += segmentSize;
                }
                else
                {
                    // A window whose last complete segment ends at 0.00 would not move the seek; it moves a whole window.
                    int advance = (sampled[lastSlice - 1] - begin) * inputStride;
                    seek += advance > 0 ? advance : segmentSize;
                }
            }
            else
            {
                double length = segmentDuration;
                int lastTimestamp = sampled.LastOrDefault(t => t >= begin, -1);
                if (lastTimestamp >= 0 && lastTimestamp != begin)
                {
                    length = (lastTimestamp - begin) * timePrecision;
                }

                current.Add((timeOffset, timeOffset + length, [.. sampled], [.. result.TokenLogprobs]));
                seek += segmentSize;
            }

            List<AlignedSegment>? aligned = null;
            if (options.WordTimestamps)
            {
                aligned = [.. current.Select(c => new AlignedSegment(c.Start, c.End, c.Tokens))];
                _aligner!.AddWordTimestamps(aligned, states, language, options.Task, timeOffset, segmentSize, lastSpeechTimestamp);
                double? lastWordEnd = LastEnd(aligned);
                if (!singleTimestampEnding && lastWordEnd is { } wordEnd && wordEnd > timeOffset)
                {
                    // As openai/whisper: the next window starts after the last word rather than at the last timestamp.
                    int wordSeek = (int)Math.Round(wordEnd * (WhisperAudio.SampleRate / WhisperAudio.HopLength), MidpointRounding.ToEven);
                    if (wordSeek > windowSeek)
                    {
                        seek = wordSeek;
                    }
                }

                if (lastWordEnd is { } end)
                {
                    lastSpeechTimestamp = end;
                }
            }

            for (int index = 0; index < current.Count; index++)
            {
                var (start, end, part, partLogprobs) = current[index];
                if (aligned is not null)
                {
                    // Word timings refine the bounds; openai/whisper lets them reach back into the previous segment, which
                    // is cut here so that segments stay ordered without overlap.
                    start = Math.Max(aligned[index].Start, previousEnd);
                    end = Math.Max(aligned[index].End, start);
                }

                // Timestamps past the audio's end (the last window is padded) are clamped to it.
                double s = Math.Min(start, duration), e = Math.Min(end, duration);
                string text = _decoder.Decode(part);
                bool empty = s >= e || string.IsNullOrWhiteSpace(text);
                IReadOnlyList<WhisperWord> words = empty || aligned is null ? [] : WordsWithin(aligned[index].Words, s, e);
                segments.Add(new WhisperSegment(
                    segments.Count,
                    windowSeek,
                    s,
                    e,
                    empty ? "" : text,
                    empty ? [] : part,
                    result.Temperature,
                    result.AvgLogprob,
                    result.CompressionRatio,
                    result.NoSpeechProb,
                    empty ? [] : partLogprobs)
                {
                    Words = words,
                });
                segmentDone?.Invoke(segments[^1]);
                previousEnd = Math.Max(previousEnd, e);
                if (!empty)
                {
                    allTokens.AddRange(part);
                }
            }

            if (!options.ConditionOnPreviousText || result.Temperature > 0.5f)
            {
                promptResetSince = allTokens.Count;
            }

            progress?.Report(new WhisperProgress(Math.Min(duration, seek * WhisperAudio.SecondsPerFrame), duration));
        }

        string all = _decoder.Decode(allTokens.Skip(initialPromptLength));
        return new WhisperTranscript(all, language, options.Task, duration, segments);
    }

    /// <summary>openai/whisper's <c>get_end</c>: the end of the last word, else of the last segment.</summary>
    private static double? LastEnd(List<AlignedSegment> segments)
    {
        for (int i = segments.Count - 1; i >= 0; i--)
        {
            if (segments[i].Words.Count > 0)
            {
                return segments[i].Words[^1].End;
            }
        }

        return segments.Count > 0 ? segments[^1].End : null;
    }

    /// <summary>
    /// The words kept inside their segment [start, end] and in order without overlap: openai/whisper's heuristics for
    /// words that look too long can otherwise push the first word before the segment's start or the last past its end.
    /// </summary>
    private static List<WhisperWord> WordsWithin(List<WhisperWord> words, double start, double end)
    {
        var kept = new List<WhisperWord>(words.Count);
        double floor = start;
        foreach (WhisperWord word in words)
        {
            double s = Math.Clamp(word.Start, floor, end);
            double e = Math.Clamp(word.End, s, end);
            kept.Add(word with { Start = s, End = e });
            floor = e;
        }

        return kept;
    }

    private WindowResult DecodeWithFallback(
        OrtValue states, WhisperTranscriptionOptions options, string language, float[] temperatures, List<int> prompt, uint windowIndex, CancellationToken ct)
    {
        WindowResult? result = null;
        for (int i = 0; i < temperatures.Length; i++)
        {
            var windowOptions = new WindowOptions
            {
                Task = options.Task,
                Language = language,
                Temperature = temperatures[i],
                WithoutTimestamps = !options.Timestamps,
                Prompt = prompt,
                Seed = options.Seed,
                Stream = (windowIndex * 16) + (uint)i,
            };
            result = _decoder.Decode(states, windowOptions, ct);
            bool fallback = result.CompressionRatio > options.CompressionRatioThreshold || result.AvgLogprob < options.LogprobThreshold;
            if (result.NoSpeechProb > options.NoSpeechThreshold && result.AvgLogprob < options.LogprobThreshold)
            {
                fallback = false;
            }

            if (!fallback)
            {
                break;
            }
        }

        return result!;
    }

    /// <summary>openai/whisper's schedule: from the given temperature up to 1.0 in steps of 0.2.</summary>
    internal static float[] Temperatures(float first)
    {
        var list = new List<float>();
        for (int i = 0; i < 6; i++)
        {
            float t = first + (i * FallbackStep[0]);
            if (t > 1.0f + 1e-6f)
            {
                break;
            }

            list.Add(MathF.Round(t, 4));
        }

        return list.Count == 0 ? [first] : [.. list];
    }
}
