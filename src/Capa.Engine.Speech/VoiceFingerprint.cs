using System.Security.Cryptography;
using System.Text;
using Capa.Media.Codecs;

namespace Capa.Engine.Speech;

/// <summary>
/// The <c>x-capa-voice-fingerprint</c> of a speech response: <c>fp_</c> + the first 10 hex digits of a SHA-256 over
/// every input that can change the audio for the same request — the voice's own inputs (engine and version, language,
/// variant, rate mapping, sentence splitting), the rendering path (resampler, output rate), the format and its encoder
/// (ffmpeg's version and arguments). The scheme is the same as chat's <c>system_fingerprint</c>: equal fingerprints
/// and equal requests give byte-identical audio.
/// </summary>
public static class VoiceFingerprint
{
    /// <summary>Computes the fingerprint; <paramref name="ffmpegVersion"/> matters only for formats encoded by ffmpeg.</summary>
    public static string Compute(ISpeechVoice voice, AudioFormat format, string? ffmpegVersion)
    {
        ArgumentNullException.ThrowIfNull(voice);
        var inputs = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in voice.FingerprintInputs)
        {
            inputs[key] = value;
        }

        inputs["voice.id"] = voice.Id;
        inputs["render"] = SpeechRenderer.Version;
        inputs["format"] = format.Name();
        if (format.NeedsFfmpeg())
        {
            inputs["encoder"] = (ffmpegVersion ?? "ffmpeg") + " " + string.Join(' ', FfmpegEncoder.Arguments(format, SpeechRenderer.OutputSampleRate));
        }

        var text = new StringBuilder();
        foreach (var (key, value) in inputs)
        {
            text.Append(key).Append('=').Append(value.ReplaceLineEndings(" ")).Append('\n');
        }

        return "fp_" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..10];
    }
}
