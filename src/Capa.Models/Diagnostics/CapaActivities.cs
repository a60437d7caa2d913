using System.Diagnostics;

namespace Capa.Models.Diagnostics;

/// <summary>
/// Capa's one <see cref="ActivitySource"/> (<see cref="SourceName"/>) for trace spans of its own work: the phases of a
/// generation (queue wait, prefill, decode), image denoising, transcription. With no listener (no tracer configured) every
/// start returns null after one check, so the spans cost nothing; they are per request or per phase, never per token.
/// Attribute names follow OpenTelemetry's GenAI semantic conventions where one exists (<see cref="GenAi"/>).
/// </summary>
public static class CapaActivities
{
    /// <summary>The source's name, which a tracer subscribes to.</summary>
    public const string SourceName = "Capa";

    /// <summary>The source.</summary>
    public static ActivitySource Source { get; } = new(SourceName);

    /// <summary>
    /// Starts a span under an explicit parent from code that is not running in that parent's flow (a scheduler thread
    /// serving many requests), leaving <see cref="Activity.Current"/> as it was; null when nobody listens or the parent
    /// was not sampled. End it with <see cref="StopDetached"/>.
    /// </summary>
    public static Activity? StartDetached(string name, ActivityContext parent)
    {
        if (!Source.HasListeners())
        {
            return null;
        }

        var current = Activity.Current;
        var activity = Source.StartActivity(name, ActivityKind.Internal, parent);
        Activity.Current = current;
        return activity;
    }

    /// <summary>Ends a span started by <see cref="StartDetached"/>, leaving <see cref="Activity.Current"/> as it was.</summary>
    public static void StopDetached(Activity? activity)
    {
        if (activity is null)
        {
            return;
        }

        var current = Activity.Current;
        activity.Stop();
        Activity.Current = current;
    }

    /// <summary>Marks a span as failed with <paramref name="error"/>'s type and message (cancellation included).</summary>
    public static void SetError(Activity? activity, Exception error)
    {
        ArgumentNullException.ThrowIfNull(error);
        if (activity is null)
        {
            return;
        }

        activity.SetStatus(ActivityStatusCode.Error, error.Message);
        activity.SetTag("error.type", error.GetType().FullName);
    }

    /// <summary>OpenTelemetry GenAI semantic-convention attribute names, and Capa's own beside them.</summary>
    public static class GenAi
    {
        /// <summary><c>gen_ai.operation.name</c>: chat, generate_content, embeddings, …</summary>
        public const string OperationName = "gen_ai.operation.name";

        /// <summary><c>gen_ai.provider.name</c>: who serves the model (<c>capa</c> for a local model).</summary>
        public const string ProviderName = "gen_ai.provider.name";

        /// <summary><c>gen_ai.request.model</c>: the model id the client asked for.</summary>
        public const string RequestModel = "gen_ai.request.model";

        /// <summary><c>gen_ai.response.model</c>: the model that answered (an alias resolved).</summary>
        public const string ResponseModel = "gen_ai.response.model";

        /// <summary><c>gen_ai.response.id</c>: the completion's id.</summary>
        public const string ResponseId = "gen_ai.response.id";

        /// <summary><c>gen_ai.response.finish_reasons</c>: one per choice.</summary>
        public const string FinishReasons = "gen_ai.response.finish_reasons";

        /// <summary><c>gen_ai.request.seed</c>.</summary>
        public const string RequestSeed = "gen_ai.request.seed";

        /// <summary><c>gen_ai.request.max_tokens</c>.</summary>
        public const string RequestMaxTokens = "gen_ai.request.max_tokens";

        /// <summary><c>gen_ai.request.choice.count</c>: choices asked for (n).</summary>
        public const string RequestChoiceCount = "gen_ai.request.choice.count";

        /// <summary><c>gen_ai.usage.input_tokens</c>: prompt tokens (cached ones included).</summary>
        public const string InputTokens = "gen_ai.usage.input_tokens";

        /// <summary><c>gen_ai.usage.output_tokens</c>: tokens sampled over all choices.</summary>
        public const string OutputTokens = "gen_ai.usage.output_tokens";

        /// <summary><c>gen_ai.usage.cache_read.input_tokens</c>: prompt tokens reused from the prefix cache.</summary>
        public const string CacheReadInputTokens = "gen_ai.usage.cache_read.input_tokens";

        /// <summary><c>openai.response.system_fingerprint</c>.</summary>
        public const string SystemFingerprint = "openai.response.system_fingerprint";

        /// <summary><c>capa.prefill.chunks</c>: forwards that fed the prompt (those not reused).</summary>
        public const string PrefillChunks = "capa.prefill.chunks";

        /// <summary><c>capa.decode.sequences</c>: choices decoded.</summary>
        public const string DecodeSequences = "capa.decode.sequences";
    }
}
