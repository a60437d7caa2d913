using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Capa.Engine.Text.Generation;
using Capa.Models.Diagnostics;
using Capa.Server.Hosting;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.TestModels;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Chat;
using OpenTelemetry.Trace;
using GenAi = Capa.Models.Diagnostics.CapaActivities.GenAi;

namespace Capa.Server.Tests.Telemetry;

/// <summary>
/// With an OTLP endpoint configured, a chat request is one trace: the ASP.NET Core request span, the GenAI
/// <c>chat {model}</c> span under it, and the engine's queue, prefill and decode spans under that, with the usage the
/// client was told; the spans reach a real OTLP/HTTP receiver as protobuf. Without an endpoint no tracer exists.
/// </summary>
public sealed class TracingTests : IDisposable
{
    private const string ModelId = "test/tiny";
    private readonly string _models = Path.Combine(Path.GetTempPath(), "capa-tracing-" + Guid.NewGuid().ToString("N"));

    public TracingTests() =>
        TestModelWriter.Write(
            new TestModelSpec { Arch = TestModelArch.Llama, Size = TestModelSize.Tiny, Quants = [TestModelQuant.Fp32], Seed = 7 },
            Path.Combine(_models, "test", "tiny"));

    public void Dispose()
    {
        Directory.Delete(_models, recursive: true);
        if (Directory.Exists(_models + ".cache"))
        {
            Directory.Delete(_models + ".cache", recursive: true);
        }
    }

    private LocalProviderOptions Provider() => new()
    {
        ModelsDirectory = _models,
        CacheDirectory = _models + ".cache",
        CreateTinyModelWhenEmpty = false,
        Model = new LocalChatModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
    };

    [Fact]
    public async Task ChatRequests_AreOneTraceEach_HttpThenChatThenEnginePhases_AndReachTheOtlpReceiver()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var exported = new SpanList();
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { OtlpEndpoint = receiver.BaseUrl }, builder =>
        {
            builder.Services.AddLocalChatProvider(Provider());

            // A second exporter on the tracer the server built, to read the spans in process.
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracer => tracer.AddInMemoryExporter(exported));
        });
        Assert.NotNull(server.Services.GetService<TracerProvider>());

        // Other tests' servers run in this process too: the client's own trace id picks this test's spans out.
        foreach (var stream in new[] { false, true })
        {
            var client = ActivityContext.Parse($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01", null);
            var chat = Client(server.BaseUrl, client);
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 };
            string id;
            ChatTokenUsage usage;
            if (stream)
            {
                (id, usage) = ("", null!);
                await foreach (var update in chat.CompleteChatStreamingAsync([new UserChatMessage("Hi")], options))
                {
                    id = update.CompletionId ?? id;
                    usage = update.Usage ?? usage;
                }
            }
            else
            {
                ChatCompletion completion = await chat.CompleteChatAsync([new UserChatMessage("Hi")], options);
                (id, usage) = (completion.Id, completion.Usage);
            }

            Assert.NotNull(usage);

            // The request span ends after the response has been written: wait for it (generously, CI is busy).
            var spans = await exported.OfTraceAsync(client.TraceId, 5);
            var http = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
            Assert.Equal(client.SpanId, http.ParentSpanId);
            Assert.Equal("/v1/chat/completions", http.GetTagItem("http.route"));

            var chatSpan = Assert.Single(spans, s => s.Source.Name == CapaActivities.SourceName && s.OperationName == "chat " + ModelId);
            Assert.Equal(http.SpanId, chatSpan.ParentSpanId);
            Assert.Equal("chat", chatSpan.GetTagItem(GenAi.OperationName));
            Assert.Equal(ModelId, chatSpan.GetTagItem(GenAi.RequestModel));
            Assert.Equal(id, chatSpan.GetTagItem(GenAi.ResponseId));
            Assert.Equal(usage.InputTokenCount, chatSpan.GetTagItem(GenAi.InputTokens));
            Assert.Equal(usage.OutputTokenCount, chatSpan.GetTagItem(GenAi.OutputTokens));
            Assert.Equal(0, chatSpan.GetTagItem(GenAi.CacheReadInputTokens));
            Assert.Equal(ActivityStatusCode.Unset, chatSpan.Status);

            var queue = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.QueueSpan);
            var prefill = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.PrefillSpan);
            var decode = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.DecodeSpan);
            Assert.All(new[] { queue, prefill, decode }, s => Assert.Equal(chatSpan.SpanId, s.ParentSpanId));
            Assert.Equal(usage.InputTokenCount, prefill.GetTagItem(GenAi.InputTokens));
            Assert.Equal(1, prefill.GetTagItem(GenAi.PrefillChunks));
            Assert.Equal(usage.OutputTokenCount, decode.GetTagItem(GenAi.OutputTokens));
            Assert.Equal(1, decode.GetTagItem(GenAi.DecodeSequences));
        }

        // A Responses request is answered through the same provider: its chat span and the engine's phases hang under it.
        var responsesTrace = ActivityTraceId.CreateRandom();
        using (var request = new HttpRequestMessage(HttpMethod.Post, "/v1/responses")
        {
            Content = new StringContent(
                "{\"model\":\"" + ModelId + "\",\"input\":\"Hi\",\"max_output_tokens\":16,\"temperature\":0}", System.Text.Encoding.UTF8, "application/json"),
        })
        {
            request.Headers.Add("traceparent", $"00-{responsesTrace}-{ActivitySpanId.CreateRandom()}-01");
            using var answer = await server.Http.SendAsync(request);
            Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
        }

        var responseSpans = await exported.OfTraceAsync(responsesTrace, 5);
        var responsesHttp = Assert.Single(responseSpans, s => s.Kind == ActivityKind.Server);
        Assert.Equal("/v1/responses", responsesHttp.GetTagItem("http.route"));
        var responsesChat = Assert.Single(responseSpans, s => s.OperationName == "chat " + ModelId);
        Assert.Equal(responsesHttp.SpanId, responsesChat.ParentSpanId);
        Assert.Equal(responsesChat.SpanId, Assert.Single(responseSpans, s => s.OperationName == TextGenerationEngine.DecodeSpan).ParentSpanId);

        // The OTLP exporter batches: flushing sends what it holds to the receiver, as protobuf, with this test's traces.
        // A scheduled export may already be on its way when the flush finds nothing left to send, so flush until this
        // test's traces have arrived (generously: CI is busy).
        var traceIds = exported.Snapshot().Where(s => s.Source.Name == CapaActivities.SourceName).Select(s => s.TraceId).Distinct().ToArray();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        do
        {
            Assert.True(server.Services.GetRequiredService<TracerProvider>().ForceFlush(60_000));
            if (receiver.Exports.Any(e => traceIds.Any(t => Contains(e.Body, TraceIdBytes(t)))))
            {
                break;
            }

            await Task.Delay(50);
        }
        while (DateTime.UtcNow < deadline);

        var exports = receiver.Exports.ToArray();
        Assert.NotEmpty(exports);
        Assert.All(exports, e =>
        {
            Assert.Equal("/v1/traces", e.Path);
            Assert.Equal("application/x-protobuf", e.ContentType);
            Assert.NotEmpty(e.Body);
        });
        Assert.Contains(exports, e => traceIds.Any(t => Contains(e.Body, TraceIdBytes(t))));
    }

    [Fact]
    public async Task NoEndpoint_NoTracer()
    {
        await using var server = await CapaTestServer.StartAsync(new CapaServerOptions());
        Assert.Null(server.Services.GetService<TracerProvider>());
    }

    [Fact]
    public async Task TheStandardVariable_TurnsTracingOn()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        await using var server = await CapaTestServer.StartAsync(
            new CapaServerOptions(),
            environment: name => name == "OTEL_EXPORTER_OTLP_ENDPOINT" ? receiver.BaseUrl : null);
        Assert.NotNull(server.Services.GetService<TracerProvider>());

        using var response = await server.Http.GetAsync("/v1/models");
        response.EnsureSuccessStatusCode();

        // The request's span ends just after the client has its answer: flush until it has gone out (generously, CI is busy).
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (receiver.Exports.IsEmpty && DateTime.UtcNow < deadline)
        {
            Assert.True(server.Services.GetRequiredService<TracerProvider>().ForceFlush(60_000));
            await Task.Delay(50);
        }

        Assert.Contains(receiver.Exports, e => e.Path == "/v1/traces" && e.ContentType == "application/x-protobuf" && e.Body.Length > 0);
    }

    private static ChatClient Client(string baseUrl, ActivityContext parent)
    {
        var options = new OpenAIClientOptions { Endpoint = new Uri(baseUrl + "/v1"), NetworkTimeout = TimeSpan.FromSeconds(120) };
        options.AddPolicy(new TraceParentPolicy($"00-{parent.TraceId}-{parent.SpanId}-01"), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential("unused"), options).GetChatClient(ModelId);
    }

    private static byte[] TraceIdBytes(ActivityTraceId trace) => Convert.FromHexString(trace.ToHexString());

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
