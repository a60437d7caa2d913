using System.Diagnostics;
using Capa.Models.Diagnostics;
using Capa.Server.Routing;
using GenAi = Capa.Models.Diagnostics.CapaActivities.GenAi;

namespace Capa.Server.Providers.Local;

/// <summary>
/// The OpenTelemetry GenAI inference span of a local completion, <c>chat {model}</c>: the request's model, seed, limits
/// and choices when it starts; the response id, fingerprint, usage and finish reasons when it ends. The engine's queue,
/// prefill and decode spans hang under it. Null (and free) when no tracer listens.
/// </summary>
internal static class ChatSpan
{
    /// <summary>The <c>gen_ai.provider.name</c> of local models.</summary>
    public const string ProviderName = "capa";

    /// <summary>Starts the span under the current activity (the HTTP request's); it becomes the current one.</summary>
    public static Activity? Start(ChatCall call)
    {
        if (!CapaActivities.Source.HasListeners())
        {
            return null;
        }

        var activity = CapaActivities.Source.StartActivity("chat " + call.ResponseModel, ActivityKind.Internal);
        if (activity is not { IsAllDataRequested: true })
        {
            return activity;
        }

        var request = call.Request;
        activity.SetTag(GenAi.OperationName, "chat");
        activity.SetTag(GenAi.ProviderName, ProviderName);
        activity.SetTag(GenAi.RequestModel, call.ResponseModel);
        activity.SetTag(GenAi.ResponseModel, call.TargetModel);
        activity.SetTag(GenAi.RequestChoiceCount, request.N ?? 1);
        if (request.Seed is { } seed)
        {
            activity.SetTag(GenAi.RequestSeed, seed);
        }

        if ((request.MaxCompletionTokens ?? request.MaxTokens) is { } max)
        {
            activity.SetTag(GenAi.RequestMaxTokens, max);
        }

        return activity;
    }

    /// <summary>Records what the completion produced.</summary>
    public static void Complete(Activity? activity, string responseId, string fingerprint, int inputTokens, int outputTokens, int cachedTokens, IEnumerable<string?> finishReasons)
    {
        if (activity is not { IsAllDataRequested: true })
        {
            return;
        }

        activity.SetTag(GenAi.ResponseId, responseId);
        activity.SetTag(GenAi.SystemFingerprint, fingerprint);
        activity.SetTag(GenAi.InputTokens, inputTokens);
        activity.SetTag(GenAi.OutputTokens, outputTokens);
        activity.SetTag(GenAi.CacheReadInputTokens, cachedTokens);
        activity.SetTag(GenAi.FinishReasons, finishReasons.Select(r => r ?? string.Empty).ToArray());
    }
}
