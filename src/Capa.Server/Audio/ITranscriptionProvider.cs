using Capa.Engine.Whisper;
using Capa.Protocol;

namespace Capa.Server.Audio;

/// <summary>One transcription or translation to run: the validated request and its decoded 16 kHz samples.</summary>
public sealed record TranscriptionCall
{
    /// <summary>The request.</summary>
    public required TranscriptionRequest Request { get; init; }

    /// <summary>Mono samples at 16 kHz.</summary>
    public required float[] Samples { get; init; }

    /// <summary>Seed of the sampling noise (temperature &gt; 0).</summary>
    public ulong Seed { get; init; }

    /// <summary>Called with each segment as it is decoded (streaming).</summary>
    public Action<WhisperSegment>? SegmentDone { get; init; }
}

/// <summary>What a provider produced: the transcript and the model that made it.</summary>
public sealed record TranscriptionOutcome(string Model, WhisperTranscript Transcript, IReadOnlyList<TranscriptionLogprob>? Logprobs);

/// <summary>
/// Serves <c>/v1/audio/transcriptions</c> and <c>/v1/audio/translations</c> for the models it knows (in the spirit of
/// Microsoft.Extensions.AI's <c>ISpeechToTextClient</c>); it lists them with
/// <see cref="Routing.ModelCapabilities.Transcription"/> for the <see cref="Routing.ModelRouter"/>.
/// </summary>
public interface ITranscriptionProvider : Routing.IModelProvider
{
    /// <summary>Whether this provider serves <paramref name="model"/> (an id or an alias such as <c>whisper-1</c>).</summary>
    Task<bool> ServesAsync(string model, CancellationToken cancellationToken);

    /// <summary>Whether the model can give word timestamps.</summary>
    bool SupportsWordTimestamps(string model);

    /// <summary>Runs the call.</summary>
    /// <exception cref="ArgumentException">The request names a language the model does not know.</exception>
    Task<TranscriptionOutcome> TranscribeAsync(TranscriptionCall call, CancellationToken cancellationToken);
}
