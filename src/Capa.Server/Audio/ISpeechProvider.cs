using System.Diagnostics.CodeAnalysis;
using Capa.Engine.Speech;
using Capa.Protocol;
using Capa.Protocol.Audio;
using Capa.Media.Codecs;

namespace Capa.Server.Audio;

/// <summary>
/// Something that speaks: it says which models it serves, checks a request against its voices (an
/// <see cref="ApiError"/> before any byte is sent), and then renders it as a <see cref="ISpeechJob"/>.
/// </summary>
public interface ISpeechProvider
{
    /// <summary>A short name for logs (<c>local</c>).</summary>
    string Name { get; }

    /// <summary>The model ids it serves.</summary>
    IReadOnlyList<string> Models { get; }

    /// <summary>Prepares <paramref name="request"/>, or says why it cannot be served (an unknown voice, a missing encoder).</summary>
    bool TryPrepare(SpeechRequest request, [NotNullWhen(true)] out ISpeechJob? job, [NotNullWhen(false)] out ApiError? error);
}

/// <summary>A prepared speech request.</summary>
public interface ISpeechJob
{
    /// <summary>The output format.</summary>
    AudioFormat Format { get; }

    /// <summary>The voice fingerprint (<c>x-capa-voice-fingerprint</c>).</summary>
    string Fingerprint { get; }

    /// <summary>The voice id used (for logs).</summary>
    string VoiceId { get; }

    /// <summary>Renders the audio, handing encoded bytes to <paramref name="output"/> as they are made.</summary>
    /// <exception cref="SpeechSynthesisException">The voice failed.</exception>
    /// <exception cref="Capa.Media.Processes.MediaProcessException">The encoder failed.</exception>
    Task<SpeechRenderResult> RunAsync(Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> output, CancellationToken cancellationToken);
}
