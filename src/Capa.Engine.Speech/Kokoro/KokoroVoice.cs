using System.Globalization;
using System.Runtime.CompilerServices;
using Capa.Engine.Speech.Text;
using Capa.Media.Audio;

namespace Capa.Engine.Speech.Kokoro;

/// <summary>
/// One voice of a Kokoro model (<c>af_heart</c>, ...). Text is spoken sentence by sentence: each sentence is phonemized
/// as kokoro-js does (<see cref="KokoroPhonemizer"/>), cut at word boundaries when it has more than 510 symbols, and
/// run through the model with the voice's style row for its length. Kokoro's graph has no noise, so equal inputs give
/// equal samples.
/// </summary>
public sealed class KokoroVoice : ISpeechVoice
{
    private readonly KokoroModel _model;
    private readonly KokoroPhonemizer _phonemizer;

    /// <summary>Creates a voice.</summary>
    /// <param name="model">The loaded model.</param>
    /// <param name="name">A voice of the model (<c>af_heart</c>).</param>
    /// <param name="phonemizer">The phonemizer.</param>
    /// <param name="espeakVersion">espeak-ng's version (it changes phonemes).</param>
    /// <param name="id">The id clients use; by default the voice name.</param>
    public KokoroVoice(KokoroModel model, string name, KokoroPhonemizer phonemizer, string espeakVersion, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(phonemizer);
        if (!model.Voices.Contains(name, StringComparer.Ordinal))
        {
            throw new ArgumentException($"The Kokoro model has no voice '{name}'.", nameof(name));
        }

        _model = model;
        _phonemizer = phonemizer;
        Name = name;
        Id = id ?? name;
        Language = KokoroPhonemizer.LanguageOf(name);
        FingerprintInputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["voice.engine"] = "kokoro",
            ["voice.model"] = model.ModelDigest,
            ["voice.style"] = name,
            ["voice.language"] = Language,
            ["voice.phonemes"] = KokoroPhonemizer.Version + " " + espeakVersion,
            ["voice.splitter"] = "sentences/" + SentenceSplitter.MaxPieceLength.ToString(CultureInfo.InvariantCulture) + "/510",
        };
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <summary>The voice's name in the model.</summary>
    public string Name { get; }

    /// <summary>The espeak-ng language its phonemes come from.</summary>
    public string Language { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> FingerprintInputs { get; }

    /// <inheritdoc />
    /// <remarks>
    /// The next sentence's phonemes (an espeak-ng run per stretch between punctuation) are made while the model speaks
    /// the current one, so only the first sentence waits for espeak-ng.
    /// </remarks>
    public async IAsyncEnumerable<PcmAudio> SynthesizeAsync(SpeechInput input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var sentences = SentenceSplitter.Split(input.Text).ToList();
        Task<string>? next = sentences.Count > 0 ? _phonemizer.PhonemizeAsync(sentences[0], Language, cancellationToken) : null;
        try
        {
            for (var i = 0; i < sentences.Count; i++)
            {
                var phonemes = await next!.ConfigureAwait(false);
                next = i + 1 < sentences.Count ? _phonemizer.PhonemizeAsync(sentences[i + 1], Language, cancellationToken) : null;
                foreach (var piece in CutToFit(phonemes, _model.Tokenizer))
                {
                    var ids = _model.Tokenizer.Encode(piece);
                    if (ids.Length <= 2)
                    {
                        continue;
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                    float[] samples;
                    try
                    {
                        samples = await Task.Run(() => _model.Synthesize(ids, Name, (float)input.Speed), cancellationToken).ConfigureAwait(false);
                    }
                    catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
                    {
                        throw new SpeechSynthesisException($"Kokoro failed: {ex.Message}", ex);
                    }

                    yield return new PcmAudio(KokoroModel.SampleRate, samples);
                }
            }
        }
        finally
        {
            await Prefetch.SettleAsync(next).ConfigureAwait(false);
        }
    }

    /// <summary>Cuts phonemes into pieces of at most 510 symbols, at the last space before the limit where there is one.</summary>
    internal static IEnumerable<string> CutToFit(string phonemes, KokoroTokenizer tokenizer)
    {
        var rest = phonemes.Trim();
        while (rest.Length > 0)
        {
            if (tokenizer.CountSymbols(rest) <= KokoroTokenizer.MaxPhonemes)
            {
                yield return rest;
                yield break;
            }

            // Symbols outside the vocabulary are few; cutting by characters stays within the limit.
            var cut = rest.LastIndexOf(' ', KokoroTokenizer.MaxPhonemes);
            if (cut <= 0)
            {
                cut = KokoroTokenizer.MaxPhonemes;
            }

            yield return rest[..cut].Trim();
            rest = rest[cut..].Trim();
        }
    }
}
