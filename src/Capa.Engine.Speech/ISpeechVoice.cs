using Capa.Media.Audio;

namespace Capa.Engine.Speech;

/// <summary>
/// A local voice: turns text into audio, one piece at a time (a sentence, or part of a long one), so a listener can
/// start hearing the first piece while the next ones are made.
/// </summary>
public interface ISpeechVoice
{
    /// <summary>The voice id clients may name (<c>espeak-ng</c>, <c>espeak-ng/de</c>, ...).</summary>
    string Id { get; }

    /// <summary>Everything that changes the voice's output for the same input, as <c>name=value</c> pairs (for fingerprints).</summary>
    IReadOnlyDictionary<string, string> FingerprintInputs { get; }

    /// <summary>Speaks <paramref name="input"/>; pieces come in order and together are the whole utterance.</summary>
    /// <exception cref="SpeechSynthesisException">The synthesizer failed.</exception>
    IAsyncEnumerable<PcmAudio> SynthesizeAsync(SpeechInput input, CancellationToken cancellationToken);
}

/// <summary>What to say and how fast.</summary>
public sealed record SpeechInput
{
    /// <summary>The text.</summary>
    public required string Text { get; init; }

    /// <summary>Speed factor, 0.25 to 4 (1 is the voice's normal rate).</summary>
    public double Speed { get; init; } = 1.0;
}

/// <summary>A synthesizer failed (a crash, a hang cut short, garbage output). The message is for logs, not clients.</summary>
public sealed class SpeechSynthesisException : Exception
{
    /// <summary>Creates an exception.</summary>
    public SpeechSynthesisException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public SpeechSynthesisException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and a cause.</summary>
    public SpeechSynthesisException(string message, Exception inner)
        : base(message, inner)
    {
    }
}
