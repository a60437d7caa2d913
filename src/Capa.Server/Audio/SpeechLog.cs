using Microsoft.Extensions.Logging;

namespace Capa.Server.Audio;

/// <summary>Log messages of the speech area. Never pass input text to them.</summary>
internal static partial class SpeechLog
{
    [LoggerMessage(101, LogLevel.Information, "Text to speech: {Espeak}; encoder: {Ffmpeg}")]
    public static partial void Ready(ILogger logger, string espeak, string ffmpeg);

    [LoggerMessage(102, LogLevel.Warning, "Text to speech is off: {Reason}")]
    public static partial void Unavailable(ILogger logger, string reason);

    [LoggerMessage(103, LogLevel.Warning, "Text to speech: {Warning}")]
    public static partial void Degraded(ILogger logger, string warning);

    [LoggerMessage(104, LogLevel.Information, "{RequestId} speech {Model} voice {Voice} -> {Format} ({Stream})")]
    public static partial void Speaking(ILogger logger, string requestId, string model, string voice, string format, string stream);

    [LoggerMessage(105, LogLevel.Information, "{RequestId} speech done: {Seconds:F2} s of audio, {Bytes} bytes")]
    public static partial void Spoken(ILogger logger, string requestId, double seconds, long bytes);

    [LoggerMessage(107, LogLevel.Information, "Text to speech: {Model} ({Engine}, {Voices} voices)")]
    public static partial void VoiceModel(ILogger logger, string model, string engine, int voices);

    [LoggerMessage(108, LogLevel.Information, "{RequestId} speech {Model} forwarded upstream")]
    public static partial void Forwarded(ILogger logger, string requestId, string model);

    [LoggerMessage(106, LogLevel.Error, "{RequestId} speech failed (response started: {Started})")]
    public static partial void Failed(ILogger logger, string requestId, bool started, Exception exception);
}
