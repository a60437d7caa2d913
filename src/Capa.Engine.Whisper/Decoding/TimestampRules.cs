namespace Capa.Engine.Whisper.Decoding;

/// <summary>
/// openai/whisper's <c>ApplyTimestampRules</c>: timestamps come in pairs (except right before the end), never
/// decrease, each segment has a nonzero length, the first token is a timestamp no later than the initial limit, and
/// a timestamp is forced when the timestamps together are likelier than any text token.
/// </summary>
internal static class TimestampRules
{
    /// <param name="logits">The next token's logits, modified in place.</param>
    /// <param name="sampled">Tokens sampled so far in this window (after the initial tokens).</param>
    /// <param name="tokens">The model's special ids.</param>
    /// <param name="maxInitialTimestampIndex">The latest first timestamp, in 0.02 s steps; null for no limit.</param>
    public static void Apply(Span<float> logits, ReadOnlySpan<int> sampled, WhisperTokens tokens, int? maxInitialTimestampIndex)
    {
        int begin = tokens.TimestampBegin;
        logits[tokens.NoTimestamps] = float.NegativeInfinity;
        bool lastWasTimestamp = sampled.Length >= 1 && sampled[^1] >= begin;
        bool penultimateWasTimestamp = sampled.Length < 2 || sampled[^2] >= begin;
        if (lastWasTimestamp)
        {
            if (penultimateWasTimestamp)
            {
                logits[begin..].Fill(float.NegativeInfinity);
            }
            else
            {
                logits[..tokens.EndOfText].Fill(float.NegativeInfinity);
            }
        }

        int lastTimestamp = -1;
        for (int i = sampled.Length - 1; i >= 0; i--)
        {
            if (sampled[i] >= begin)
            {
                lastTimestamp = sampled[i];
                break;
            }
        }

        if (lastTimestamp >= 0)
        {
            // Non-decreasing timestamps; after a segment's closing timestamp the next must move on.
            int floor = lastWasTimestamp && !penultimateWasTimestamp ? lastTimestamp : lastTimestamp + 1;
            logits[begin..Math.Min(floor, logits.Length)].Fill(float.NegativeInfinity);
        }

        if (sampled.Length == 0)
        {
            logits[..begin].Fill(float.NegativeInfinity);
            if (maxInitialTimestampIndex is { } max && begin + max + 1 < logits.Length)
            {
                logits[(begin + max + 1)..].Fill(float.NegativeInfinity);
            }
        }

        // log Σ p(timestamps) against the best text token, on the log-softmax of what is left.
        float maxAll = float.NegativeInfinity;
        foreach (float v in logits)
        {
            maxAll = Math.Max(maxAll, v);
        }

        if (float.IsNegativeInfinity(maxAll))
        {
            return;
        }

        double total = 0, timestampMass = 0;
        float maxText = float.NegativeInfinity;
        for (int i = 0; i < logits.Length; i++)
        {
            double e = Math.Exp(logits[i] - maxAll);
            total += e;
            if (i >= begin)
            {
                timestampMass += e;
            }
            else
            {
                maxText = Math.Max(maxText, logits[i]);
            }
        }

        double logTotal = Math.Log(total) + maxAll;
        double timestampLogprob = timestampMass > 0 ? Math.Log(timestampMass) + maxAll - logTotal : double.NegativeInfinity;
        double maxTextLogprob = maxText - logTotal;
        if (timestampLogprob > maxTextLogprob)
        {
            logits[..begin].Fill(float.NegativeInfinity);
        }
    }
}
