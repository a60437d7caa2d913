using System.ClientModel;
using System.ClientModel.Primitives;
using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OpenAI;
using OpenAI.Images;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa image PROMPT -o FILE</c>: generates an image through <c>/v1/images/generations</c> with the OpenAI SDK, writes it
/// to a file and prints the prompt the model used and the seed that makes the image again.
/// </summary>
internal static class ImageCommand
{
    private const string SeedHeader = "x-capa-seed";

    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "What the image should show." };
        var output = new Option<string>("--output", "-o") { Description = "The file to write (.png; .jpeg or .webp with a gpt-image model).", DefaultValueFactory = _ => "image.png" };
        var size = new Option<string>("--size", "-s") { Description = "WIDTHxHEIGHT, as the model allows (dall-e-3: 1024x1024, 1792x1024, 1024x1792).", DefaultValueFactory = _ => "1024x1024" };
        var quality = new Option<string?>("--quality", "-q") { Description = "standard or hd (dall-e-3); low, medium, high or auto (gpt-image models)." };
        var seed = new Option<ulong?>("--seed") { Description = "Seed: the same seed, prompt and options give the same image bytes." };
        var model = new Option<string>("--model", "-m") { Description = "Model id or alias.", DefaultValueFactory = _ => "dall-e-3" };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("image", "Generate an image with the server's image model and write it to a file.")
        {
            prompt, output, size, quality, seed, model, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            string text = parse.GetValue(prompt)!;
            string target = Path.GetFullPath(parse.GetValue(output)!);
            string modelId = parse.GetValue(model)!;
            string sizeText = parse.GetValue(size)!;
            int x = sizeText.IndexOf('x', StringComparison.Ordinal);
            if (x <= 0 || !int.TryParse(sizeText.AsSpan(0, x), NumberStyles.None, CultureInfo.InvariantCulture, out int width)
                || !int.TryParse(sizeText.AsSpan(x + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int height))
            {
                throw new CliException($"--size must be WIDTHxHEIGHT, e.g. 1024x1024; got '{sizeText}'.");
            }

            bool gpt = modelId.StartsWith("gpt-image-", StringComparison.Ordinal);
            string extension = Path.GetExtension(target).TrimStart('.').ToLowerInvariant();
            if (!gpt && extension is "jpg" or "jpeg" or "webp")
            {
                throw new CliException($"{modelId} makes PNG images; write to a .png file or use a gpt-image model for {extension}.");
            }

            var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
            var seedPolicy = new SeedPolicy(parse.GetValue(seed));
            var clientOptions = new OpenAIClientOptions { Endpoint = connection.BaseUrl, NetworkTimeout = TimeSpan.FromMinutes(10) };
            clientOptions.AddPolicy(seedPolicy, PipelinePosition.PerCall);
            ImageClient client = new OpenAIClient(new ApiKeyCredential(connection.ApiKey), clientOptions).GetImageClient(modelId);
            var options = new ImageGenerationOptions
            {
                Size = new GeneratedImageSize(width, height),
            };
            if (parse.GetValue(quality) is { Length: > 0 } q)
            {
                options.Quality = new GeneratedImageQuality(q);
            }

            if (!gpt)
            {
                options.ResponseFormat = GeneratedImageFormat.Bytes;
            }

#pragma warning disable OPENAI001 // output_format is marked experimental in the SDK.
            if (gpt && extension is "jpg" or "jpeg" or "webp")
            {
                options.OutputFileFormat = extension == "webp" ? GeneratedImageFileFormat.Webp : GeneratedImageFileFormat.Jpeg;
            }
#pragma warning restore OPENAI001

            GeneratedImage image;
            using (var progress = new ElapsedProgress())
            {
                image = (await Repro.EndpointErrors.CallAsync(connection.BaseUrl, () => client.GenerateImageAsync(text, options, ct)).ConfigureAwait(false)).Value;
            }

            if (image.ImageBytes is null)
            {
                throw new CliException("The server answered without image bytes.");
            }

            string? folder = Path.GetDirectoryName(target);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            await File.WriteAllBytesAsync(target, image.ImageBytes.ToArray(), ct).ConfigureAwait(false);
            TextWriter stdout = parse.InvocationConfiguration.Output;
            if (image.RevisedPrompt is { Length: > 0 } revised)
            {
                stdout.WriteLine($"Revised prompt: {revised}");
            }

            stdout.WriteLine(seedPolicy.ReportedSeed is { } reported
                ? $"Wrote {target} ({width}x{height}, seed {reported}: --seed {reported} makes it again)."
                : $"Wrote {target} ({width}x{height}).");
        }));
        return command;
    }

    /// <summary>Sends <c>x-capa-seed</c> when a seed is given, and reads the seed the server used.</summary>
    private sealed class SeedPolicy(ulong? seed) : PipelinePolicy
    {
        public string? ReportedSeed { get; private set; }

        public override void Process(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Before(message);
            ProcessNext(message, pipeline, currentIndex);
            After(message);
        }

        public override async ValueTask ProcessAsync(PipelineMessage message, IReadOnlyList<PipelinePolicy> pipeline, int currentIndex)
        {
            Before(message);
            await ProcessNextAsync(message, pipeline, currentIndex).ConfigureAwait(false);
            After(message);
        }

        private void Before(PipelineMessage message)
        {
            if (seed is { } value)
            {
                message.Request.Headers.Set(SeedHeader, value.ToString(CultureInfo.InvariantCulture));
            }
        }

        private void After(PipelineMessage message)
        {
            if (message.Response?.Headers.TryGetValue(SeedHeader, out string? value) == true)
            {
                ReportedSeed = value;
            }
        }
    }

    /// <summary>While the server works, standard error shows the seconds elapsed (on a terminal only).</summary>
    private sealed class ElapsedProgress : IDisposable
    {
        private readonly Timer? _timer;
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _done;

        public ElapsedProgress()
        {
            if (!Console.IsErrorRedirected)
            {
                _timer = new Timer(_ => Show(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
            }
        }

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _done, 1) == 0 && _timer is not null)
            {
                _timer.Dispose();
                Console.Error.Write("\r\u001b[K");
            }
        }

        private void Show()
        {
            if (Volatile.Read(ref _done) == 0)
            {
                Console.Error.Write(string.Create(CultureInfo.InvariantCulture, $"\rGenerating the image: {_clock.Elapsed.TotalSeconds:F0} s"));
            }
        }
    }
}
