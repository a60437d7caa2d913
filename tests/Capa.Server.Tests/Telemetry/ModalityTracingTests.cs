using System.ClientModel;
using System.ClientModel.Primitives;
using System.Diagnostics;
using Capa.Engine.Text.Generation;
using Capa.Engine.Vision;
using Capa.Media.Audio;
using Capa.Models.Diagnostics;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Capa.Server.Images;
using Capa.Server.Providers.Local;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Tests.Providers.Local;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Audio;
using OpenAI.Chat;
using OpenAI.Images;
using OpenTelemetry.Trace;
using GenAi = Capa.Models.Diagnostics.CapaActivities.GenAi;

namespace Capa.Server.Tests.Telemetry;

/// <summary>
/// One server with an OTLP endpoint and the local vision, transcription and image providers (each serving its tiny
/// model from an empty store): a chat request with an image is a <c>chat {model}</c> span with the engine's phases under
/// it, a transcription a <c>capa.transcription</c> span, an image generation a <c>capa.diffusion</c> span per image, each
/// with its attributes and under the HTTP request's span.
/// </summary>
public sealed class ModalityTracingFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "capa-modality-tracing-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Server { get; private set; } = null!;

    public SpanList Exported { get; } = new();

    private OtlpReceiver _receiver = null!;

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string models = Path.Combine(Directory, "models");
        _receiver = await OtlpReceiver.StartAsync();
        Server = await CapaTestServer.StartAsync(new CapaServerOptions { OtlpEndpoint = _receiver.BaseUrl, ModelsDirectory = models }, builder =>
        {
            builder.Services.AddLocalVisionProvider(new LocalVisionProviderOptions
            {
                ModelsDirectory = models,
                CacheDirectory = Path.Combine(Directory, "cache"),
                Model = new LocalVisionModelOptions { Decoder = new OnnxDecoderOptions { IntraOpThreads = 1 } },
            });
            builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = models, IntraOpThreads = 1 });
            builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(Directory, "files") });

            // A second exporter on the tracer the server built, to read the spans in process.
            builder.Services.ConfigureOpenTelemetryTracerProvider(tracer => tracer.AddInMemoryExporter(Exported));
        });
        Server.Services.GetRequiredService<LocalVisionProvider>().PrepareStore();
    }

    /// <summary>An SDK client of the server whose requests carry <paramref name="parent"/> as their traceparent.</summary>
    public OpenAIClient Client(ActivityContext parent)
    {
        var options = new OpenAIClientOptions
        {
            Endpoint = new Uri(Server.BaseUrl + "/v1"),
            RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
            NetworkTimeout = TimeSpan.FromSeconds(300),
        };
        options.AddPolicy(new TraceParentPolicy($"00-{parent.TraceId}-{parent.SpanId}-01"), PipelinePosition.PerCall);
        return new OpenAIClient(new ApiKeyCredential("unused"), options);
    }

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        await _receiver.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}

/// <summary>The spans of vision chat, transcription and image generation (see <see cref="ModalityTracingFixture"/>).</summary>
public sealed class ModalityTracingTests(ModalityTracingFixture fixture) : IClassFixture<ModalityTracingFixture>
{
    // Other tests' servers run in this process too: a fresh trace id per request picks this test's spans out.
    private static ActivityContext NewParent() =>
        ActivityContext.Parse($"00-{ActivityTraceId.CreateRandom()}-{ActivitySpanId.CreateRandom()}-01", null);

    [Fact]
    public async Task VisionChat_IsAChatSpanUnderTheRequest_WithTheEnginePhasesUnderIt()
    {
        foreach (bool stream in new[] { false, true })
        {
            var parent = NewParent();
            ChatClient chat = fixture.Client(parent).GetChatClient(CapaTinyVision.ModelId);
            UserChatMessage message = new(
                ChatMessageContentPart.CreateTextPart("What is in this picture?"),
                ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(LocalVisionProviderTests.Png(48, 40)), "image/png"));
            var options = new ChatCompletionOptions { MaxOutputTokenCount = 4, Temperature = 0 };
            options.Seed = 11;
            string id;
            ChatTokenUsage usage;
            if (stream)
            {
                (id, usage) = ("", null!);
                await foreach (var update in chat.CompleteChatStreamingAsync([message], options))
                {
                    id = update.CompletionId ?? id;
                    usage = update.Usage ?? usage;
                }
            }
            else
            {
                ChatCompletion completion = await chat.CompleteChatAsync([message], options);
                (id, usage) = (completion.Id, completion.Usage);
            }

            Assert.NotNull(usage);
            var spans = await fixture.Exported.OfTraceAsync(parent.TraceId, expected: 5);
            var http = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
            Assert.Equal(parent.SpanId, http.ParentSpanId);
            Assert.Equal("/v1/chat/completions", http.GetTagItem("http.route"));

            var chatSpan = Assert.Single(spans, s => s.Source.Name == CapaActivities.SourceName && s.OperationName == "chat " + CapaTinyVision.ModelId);
            Assert.Equal(http.SpanId, chatSpan.ParentSpanId);
            Assert.Equal("chat", chatSpan.GetTagItem(GenAi.OperationName));
            Assert.Equal(ChatSpan.ProviderName, chatSpan.GetTagItem(GenAi.ProviderName));
            Assert.Equal(CapaTinyVision.ModelId, chatSpan.GetTagItem(GenAi.RequestModel));
            Assert.Equal(CapaTinyVision.ModelId, chatSpan.GetTagItem(GenAi.ResponseModel));
            Assert.Equal(11L, Convert.ToInt64(chatSpan.GetTagItem(GenAi.RequestSeed), System.Globalization.CultureInfo.InvariantCulture));
            Assert.Equal(4, chatSpan.GetTagItem(GenAi.RequestMaxTokens));
            Assert.Equal(id, chatSpan.GetTagItem(GenAi.ResponseId));
            Assert.Equal(usage.InputTokenCount, chatSpan.GetTagItem(GenAi.InputTokens));
            Assert.Equal(usage.OutputTokenCount, chatSpan.GetTagItem(GenAi.OutputTokens));
            Assert.Equal(0, chatSpan.GetTagItem(GenAi.CacheReadInputTokens));
            var reasons = Assert.IsType<string[]>(chatSpan.GetTagItem(GenAi.FinishReasons));
            Assert.Single(reasons);
            Assert.False(string.IsNullOrEmpty((string?)chatSpan.GetTagItem(GenAi.SystemFingerprint)));
            Assert.Equal(ActivityStatusCode.Unset, chatSpan.Status);

            // The image tokens are part of the prompt the engine prefilled.
            var queue = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.QueueSpan);
            var prefill = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.PrefillSpan);
            var decode = Assert.Single(spans, s => s.OperationName == TextGenerationEngine.DecodeSpan);
            Assert.All(new[] { queue, prefill, decode }, s => Assert.Equal(chatSpan.SpanId, s.ParentSpanId));
            Assert.Equal(usage.InputTokenCount, prefill.GetTagItem(GenAi.InputTokens));
            Assert.Equal(usage.OutputTokenCount, decode.GetTagItem(GenAi.OutputTokens));
        }
    }

    [Fact]
    public async Task Transcription_IsATranscriptionSpanUnderTheRequest()
    {
        // Two seconds of a 440 Hz tone, 16 kHz mono: a WAV the server decodes itself.
        var samples = new float[32_000];
        for (int i = 0; i < samples.Length; i++)
        {
            samples[i] = 0.3f * MathF.Sin(2 * MathF.PI * 440 * i / 16_000f);
        }

        byte[] wav = WavFile.Write(new PcmAudio(16_000, samples));
        var parent = NewParent();
        AudioClient audio = fixture.Client(parent).GetAudioClient("whisper-1");
        AudioTranscription result = (await audio.TranscribeAudioAsync(new MemoryStream(wav), "tone.wav",
            new AudioTranscriptionOptions { Language = "en", Temperature = 0 })).Value;
        Assert.NotNull(result.Text);

        var spans = await fixture.Exported.OfTraceAsync(parent.TraceId, expected: 2);
        var http = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(parent.SpanId, http.ParentSpanId);
        Assert.Equal("/v1/audio/transcriptions", http.GetTagItem("http.route"));

        var span = Assert.Single(spans, s => s.Source.Name == CapaActivities.SourceName);
        Assert.Equal(LocalTranscriptionProvider.TranscriptionSpan, span.OperationName);
        Assert.Equal(http.SpanId, span.ParentSpanId);
        Assert.Equal(TranscriptionModelId(), span.GetTagItem(GenAi.RequestModel));
        Assert.Equal("transcribe", span.GetTagItem("capa.transcription.task"));
        Assert.Equal(2.0, Convert.ToDouble(span.GetTagItem("capa.audio.duration_s"), System.Globalization.CultureInfo.InvariantCulture), precision: 2);
        Assert.Equal(ActivityStatusCode.Unset, span.Status);
    }

    [Fact]
    public async Task ImageGeneration_IsADiffusionSpanPerImageUnderTheRequest()
    {
        var parent = NewParent();
        ImageClient images = fixture.Client(parent).GetImageClient("dall-e-2");
        GeneratedImageCollection generated = (await images.GenerateImagesAsync("a red cube", 2, new ImageGenerationOptions
        {
            Size = GeneratedImageSize.W256xH256,
            ResponseFormat = GeneratedImageFormat.Bytes,
        })).Value;
        Assert.Equal(2, generated.Count);

        var spans = await fixture.Exported.OfTraceAsync(parent.TraceId, expected: 3);
        var http = Assert.Single(spans, s => s.Kind == ActivityKind.Server);
        Assert.Equal(parent.SpanId, http.ParentSpanId);
        Assert.Equal("/v1/images/generations", http.GetTagItem("http.route"));

        var diffusion = spans.Where(s => s.Source.Name == CapaActivities.SourceName).ToArray();
        Assert.Equal(2, diffusion.Length);
        var model = ImageModelId();
        Assert.All(diffusion, span =>
        {
            Assert.Equal(LocalImageProvider.DiffusionSpan, span.OperationName);
            Assert.Equal(http.SpanId, span.ParentSpanId);
            Assert.Equal(model, span.GetTagItem(GenAi.RequestModel));
            Assert.True(span.GetTagItem("capa.diffusion.steps") is int steps && steps > 0);
            Assert.True(span.GetTagItem("capa.diffusion.width") is int width && width > 0);
            Assert.True(span.GetTagItem("capa.diffusion.height") is int height && height > 0);
            Assert.True(span.GetTagItem("capa.diffusion.unet_s") is double seconds && seconds >= 0);
            Assert.Equal(ActivityStatusCode.Unset, span.Status);
        });
    }

    // The served model comes first, its aliases (whisper-1, ...) after it.
    private string TranscriptionModelId() =>
        fixture.Server.Services.GetRequiredService<LocalTranscriptionProvider>().GetModelsAsync(default).AsTask().Result[0].Id;

    private string ImageModelId() =>
        fixture.Server.Services.GetRequiredService<LocalImageProvider>().GetModelsAsync(default).AsTask().Result.Single().Id;
}

/// <summary>
/// Without an OTLP endpoint nothing listens to Capa's spans while transcription and image requests are served, so none
/// is created. Alone in its collection: a tracer of another test's server would listen process-wide.
/// </summary>
[Collection(NoTracerCollection.Name)]
public sealed class ModalityNoTracingTests
{
    [Fact]
    public async Task NoEndpoint_NoListener_WhileTranscriptionAndImagesAreServed()
    {
        string directory = Path.Combine(Path.GetTempPath(), "capa-modality-untraced-" + Guid.NewGuid().ToString("N"));
        string models = Path.Combine(directory, "models");
        try
        {
            await using var server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models }, builder =>
            {
                builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = models, IntraOpThreads = 1 });
                builder.Services.AddImages(new ImageOptions { ModelsDirectory = models, IntraOpThreads = 1, FilesDirectory = Path.Combine(directory, "files") });
            });
            Assert.Null(server.Services.GetService<TracerProvider>());

            var client = new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
            {
                Endpoint = new Uri(server.BaseUrl + "/v1"),
                RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
                NetworkTimeout = TimeSpan.FromSeconds(300),
            });
            byte[] wav = WavFile.Write(new PcmAudio(16_000, new float[16_000]));
            Assert.NotNull((await client.GetAudioClient("whisper-1").TranscribeAudioAsync(new MemoryStream(wav), "silence.wav")).Value.Text);
            Assert.False(CapaActivities.Source.HasListeners());

            var image = (await client.GetImageClient("dall-e-2").GenerateImageAsync("a red cube", new ImageGenerationOptions
            {
                Size = GeneratedImageSize.W256xH256,
                ResponseFormat = GeneratedImageFormat.Bytes,
            })).Value;
            Assert.NotNull(image.ImageBytes);
            Assert.False(CapaActivities.Source.HasListeners());
        }
        finally
        {
            if (System.IO.Directory.Exists(directory))
            {
                System.IO.Directory.Delete(directory, recursive: true);
            }
        }
    }
}

/// <summary>Tests run after and apart from every other collection, so no other server's tracer is alive.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class NoTracerCollection
{
    public const string Name = "no tracer";
}
