using System.Diagnostics.CodeAnalysis;
using Capa.Engine.Speech;
using Capa.Protocol;
using Capa.Protocol.Audio;
using Capa.Media.Codecs;
using Capa.Server.Routing;

namespace Capa.Server.Audio;

/// <summary>
/// Something that speaks (in the spirit of Microsoft.Extensions.AI's <c>ITextToSpeechClient</c>): it lists the models
/// it serves with <see cref="ModelCapabilities.Speech"/> for the <see cref="ModelRouter"/>, checks a request against its
/// voices (an <see cref="ApiError"/> before any byte is sent), and then renders it as a <see cref="ISpeechJob"/>.
/// </summary>
public interface ISpeechProvider : IModelProvider
{

    /// <summary>
    /// Prepares <paramref name="request"/> for <paramref name="model"/> (the id the router resolved it to), or says why it
    /// cannot be served (an unknown voice, a missing encoder).
    /// </summary>
    bool TryPrepare(SpeechRequest request, string model, [NotNullWhen(true)] out ISpeechJob? job, [NotNullWhen(false)] out ApiError? error);
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
