using System.ClientModel;
using System.ClientModel.Primitives;
using Capa.Server.Audio;
using Capa.Server.Hosting;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenAI;
using OpenAI.Audio;

namespace Capa.Server.Tests.Audio;

/// <summary>A server with the transcription area over an empty store (so it serves capa-whisper-tiny), and speech fixtures.</summary>
public sealed class TranscriptionServerFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "capa-transcription-" + Guid.NewGuid().ToString("N"));

    public CapaTestServer Server { get; private set; } = null!;

    public byte[] EnglishWav { get; private set; } = [];

    public byte[] EnglishMp3 { get; private set; } = [];

    public byte[] ChineseWav { get; private set; } = [];

    public async Task InitializeAsync()
    {
        System.IO.Directory.CreateDirectory(Directory);
        string models = Path.Combine(Directory, "models");
        Server = await CapaTestServer.StartAsync(new CapaServerOptions { ModelsDirectory = models }, builder =>
            builder.Services.AddTranscription(new LocalTranscriptionOptions { ModelsDirectory = models, IntraOpThreads = 1 }));
        if (SpeechFixtures.MissingTool is null)
        {
            EnglishWav = await SpeechFixtures.SpeakAsync("Hello from Capa. This sentence was spoken by espeak.", "en", "wav", Directory);
            string wav = Path.Combine(Directory, "english.wav");
            await File.WriteAllBytesAsync(wav, EnglishWav);
            EnglishMp3 = await SpeechFixtures.ConvertAsync(wav, "mp3", Directory);
            ChineseWav = await SpeechFixtures.SpeakAsync("你好，这是一个语音识别测试。", "cmn", "wav", Directory);
        }
    }

    public AudioClient Audio(string model = "whisper-1") => new OpenAIClient(new ApiKeyCredential("unused"), new OpenAIClientOptions
    {
        Endpoint = new Uri(Server.BaseUrl + "/v1"),
        RetryPolicy = new ClientRetryPolicy(maxRetries: 0),
        NetworkTimeout = TimeSpan.FromSeconds(300),
    }).GetAudioClient(model);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
