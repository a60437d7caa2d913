namespace Capa.Engine.Speech;

/// <summary>Work started ahead (the next sentence's phonemes) that a stream may leave behind when it ends early.</summary>
internal static class Prefetch
{
    /// <summary>
    /// Waits for <paramref name="pending"/> and drops its failure: the stream that started it has already ended (with
    /// its own result or exception), and a failure nobody observes must not surface later as an unobserved task.
    /// </summary>
    public static async Task SettleAsync(Task? pending)
    {
        if (pending is null)
        {
            return;
        }

        try
        {
            await pending.ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SpeechSynthesisException or OperationCanceledException or ArgumentException)
        {
            // Observed and dropped on purpose (see above).
        }
    }
}
