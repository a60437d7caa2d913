using System.ClientModel.Primitives;

namespace Capa.Server.Tests.Telemetry;

/// <summary>Sends a W3C <c>traceparent</c> header with every request of an OpenAI SDK client, so its spans join a test's trace.</summary>
internal sealed class TraceParentPolicy(string traceparent) : PipelinePolicy
{
    public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("traceparent", traceparent);
        ProcessNext(message, pipeline, currentIndex);
    }

    public override ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
    {
        message.Request.Headers.Set("traceparent", traceparent);
        return ProcessNextAsync(message, pipeline, currentIndex);
    }
}
