using Capa.Engine.Whisper.Decoding;

namespace Capa.Engine.Whisper.Tests.Decoding;

public sealed class TimestampRulesTests
{
    // Text 0..9, <|endoftext|> 10, specials 11..14, <|notimestamps|> 15, timestamps 16..(16 + 100).
    private static readonly WhisperTokens Tokens = new()
    {
        EndOfText = 10,
        StartOfTranscript = 11,
        NoTimestamps = 15,
        Transcribe = 12,
        Translate = 13,
        Languages = new Dictionary<string, int> { ["en"] = 14 },
        Suppress = [],
        BeginSuppress = [],
    };

    private const int Vocab = 16 + 101;
    private const int T0 = 16;

    private static float[] Flat() => [.. Enumerable.Repeat(0f, Vocab)];

    [Fact]
    public void FirstToken_IsATimestampNoLaterThanTheInitialLimit()
    {
        float[] logits = Flat();
        TimestampRules.Apply(logits, [], Tokens, maxInitialTimestampIndex: 50);
        Assert.All(logits[..T0], v => Assert.Equal(float.NegativeInfinity, v));
        Assert.All(logits[T0..(T0 + 51)], v => Assert.Equal(0f, v));
        Assert.All(logits[(T0 + 51)..], v => Assert.Equal(float.NegativeInfinity, v));
    }

    [Fact]
    public void AfterTextThenTimestamp_TextIsBannedAndTimestampsDoNotDecrease()
    {
        float[] logits = Flat();
        // The end of text stays possible (likelier here than all timestamps together).
        logits[Tokens.EndOfText] = 10f;
        TimestampRules.Apply(logits, [T0 + 5, 3, 4, T0 + 20], Tokens, 50);
        Assert.All(logits[..Tokens.EndOfText], v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal(10f, logits[Tokens.EndOfText]);
        Assert.All(logits[T0..(T0 + 20)], v => Assert.Equal(float.NegativeInfinity, v));
        // The closing timestamp may repeat (a new segment starting where the last ended).
        Assert.Equal(0f, logits[T0 + 20]);
        Assert.Equal(float.NegativeInfinity, logits[Tokens.NoTimestamps]);
    }

    [Fact]
    public void AfterAPairOfTimestamps_TheNextIsText()
    {
        float[] logits = Flat();
        TimestampRules.Apply(logits, [T0, 3, T0 + 7, T0 + 7], Tokens, 50);
        Assert.All(logits[T0..], v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal(0f, logits[3]);
    }

    [Fact]
    public void AfterOpeningTimestampAndText_LaterTimestampsMustMoveOn()
    {
        float[] logits = Flat();
        TimestampRules.Apply(logits, [T0 + 9, 2], Tokens, 50);
        Assert.All(logits[T0..(T0 + 10)], v => Assert.Equal(float.NegativeInfinity, v));
        Assert.Equal(0f, logits[T0 + 10]);
    }

    [Fact]
    public void TimestampMassAboveTheBestText_ForcesATimestamp()
    {
        float[] logits = Flat();
        logits[T0 + 30] = 5f;
        logits[T0 + 31] = 5f;
        logits[2] = 5.5f;
        TimestampRules.Apply(logits, [T0, 2], Tokens, 50);
        Assert.All(logits[..T0], v => Assert.Equal(float.NegativeInfinity, v));
    }
}
