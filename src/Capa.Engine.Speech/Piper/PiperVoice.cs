using System.Globalization;
using System.Runtime.CompilerServices;
using Capa.Media.Audio;

namespace Capa.Engine.Speech.Piper;

/// <summary>
/// A Piper voice (one speaker of a model): each sentence is phonemized (<see cref="PiperPhonemizer"/>), run through
/// the model with <c>length_scale</c> divided by the requested speed, and followed by Piper's 0.2 s of sentence
/// silence. The sentences stream as they are made.
/// </summary>
/// <remarks>
/// Real Piper graphs draw their noise inside ONNX Runtime (RandomNormalLike), which takes no seed from outside: their
/// audio can differ slightly between runs. The fingerprint still names everything Capa controls.
/// </remarks>
public sealed class PiperVoice : ISpeechVoice
{
    /// <summary>Silence after each sentence, as Piper's default <c>sentence_silence</c>.</summary>
    public const double SentenceSilenceSeconds = 0.2;

    private readonly PiperModel _model;
    private readonly PiperPhonemizer _phonemizer;
    private readonly long _speaker;

    /// <summary>Creates a voice.</summary>
    /// <param name="model">The model.</param>
    /// <param name="phonemizer">The phonemizer.</param>
    /// <param name="espeakVersion">espeak-ng's version (it changes phonemes).</param>
    /// <param name="speaker">A speaker name of a multi-speaker model, or null for the first.</param>
    /// <param name="id">The id clients use; by default the model name (with <c>:speaker</c>).</param>
    public PiperVoice(PiperModel model, PiperPhonemizer phonemizer, string espeakVersion, string? speaker = null, string? id = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(phonemizer);
        _model = model;
        _phonemizer = phonemizer;
        if (speaker is not null && !model.Config.SpeakerIds.TryGetValue(speaker, out _speaker))
        {
            throw new ArgumentException($"The Piper voice '{model.Name}' has no speaker '{speaker}'.", nameof(speaker));
        }

        Id = id ?? (speaker is null ? model.Name : model.Name + ":" + speaker);
        FingerprintInputs = new SortedDictionary<string, string>(StringComparer.Ordinal)
        {
            ["voice.engine"] = "piper",
            ["voice.model"] = model.ModelDigest,
            ["voice.speaker"] = _speaker.ToString(CultureInfo.InvariantCulture),
            ["voice.language"] = model.Config.EspeakVoice,
            ["voice.phonemes"] = PiperPhonemizer.Version + " " + espeakVersion,
            ["voice.scales"] = string.Create(CultureInfo.InvariantCulture, $"{model.Config.NoiseScale} {model.Config.LengthScale} {model.Config.NoiseW}"),
        };
    }

    /// <inheritdoc />
    public string Id { get; }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> FingerprintInputs { get; }

    /// <inheritdoc />
    /// <remarks>The next sentence's phonemes are made by espeak-ng while the model speaks the current one.</remarks>
    public async IAsyncEnumerable<PcmAudio> SynthesizeAsync(SpeechInput input, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var config = _model.Config;
        var lengthScale = (float)(config.LengthScale / input.Speed);
        var silence = new float[(int)(config.SampleRate * SentenceSilenceSeconds)];
        var pieces = Text.SentenceSplitter.Split(input.Text).ToList();
        Task<IReadOnlyList<IReadOnlyList<string>>>? next = pieces.Count > 0 ? _phonemizer.PhonemizeAsync(pieces[0], config.EspeakVoice, cancellationToken) : null;
        try
        {
            for (var i = 0; i < pieces.Count; i++)
            {
                var sentences = await next!.ConfigureAwait(false);
                next = i + 1 < pieces.Count ? _phonemizer.PhonemizeAsync(pieces[i + 1], config.EspeakVoice, cancellationToken) : null;
                foreach (var phonemes in sentences)
                {
                    var ids = PiperPhonemizer.ToIds(phonemes, config);
                    cancellationToken.ThrowIfCancellationRequested();
                    float[] samples;
                    try
                    {
                        samples = await Task.Run(() => _model.Synthesize(ids, lengthScale, _speaker), cancellationToken).ConfigureAwait(false);
                    }
                    catch (Microsoft.ML.OnnxRuntime.OnnxRuntimeException ex)
                    {
                        throw new SpeechSynthesisException($"Piper failed: {ex.Message}", ex);
                    }

                    yield return new PcmAudio(config.SampleRate, samples);
                    yield return new PcmAudio(config.SampleRate, silence);
                }
            }
        }
        finally
        {
            await Prefetch.SettleAsync(next).ConfigureAwait(false);
        }
    }
}
