using System.CommandLine;
using OpenAI.Chat;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa vision IMAGE "QUESTION"</c>: asks a vision model about an image through the official OpenAI SDK, as the
/// tutorial does: a file is sent as a base64 <c>data:</c> URL, an https URL is passed on. Streamed by default.
/// </summary>
internal static class VisionCommand
{
    /// <summary>The largest image file sent (OpenAI's per-request image budget).</summary>
    private const long MaxImageBytes = 50L << 20;

    public static Command Create() => Create(TerminalText.IsTerminal);

    /// <param name="isTerminal">Whether a writer shows text on a terminal (tests stand in for one).</param>
    internal static Command Create(Func<TextWriter, bool> isTerminal)
    {
        var image = new Argument<string>("image") { Description = "The image: a file (PNG, JPEG, WebP or GIF) or an https URL." };
        var question = new Argument<string>("question") { Description = "What to ask about it." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model id or alias (any chat alias reaches a vision model when the message holds an image).",
            DefaultValueFactory = _ => "gpt-4-vision-preview",
        };
        var detail = DetailOption();
        var noStream = new Option<bool>("--no-stream") { Description = "Wait for the whole answer instead of streaming it." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "The longest answer, in tokens." };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed: the same seed, image, question and settings give the same answer." };
        var temperature = new Option<float?>("--temperature", "-t") { Description = "Sampling temperature, 0 to 2 (default 1)." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("vision", "Ask a vision model about an image and print the answer as it arrives.")
        {
            image, question, model, detail, noStream, maxTokens, seed, temperature, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            return CliRunner.RunAsync(
                async () =>
                {
                    var options = ChatCommand.Options(parse.GetValue(maxTokens), parse.GetValue(seed), parse.GetValue(temperature));
                    var message = ChatCommand.UserMessage(parse.GetValue(question)!, [parse.GetValue(image)!], ParseDetail(parse.GetValue(detail)));
                    var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
                    var client = connection.CreateClient().GetChatClient(parse.GetValue(model)!);
                    await ChatCommand.Send(client, connection, [message], options, parse.GetValue(noStream), output, error, isTerminal, ct).ConfigureAwait(false);
                },
                error,
                isTerminal);
        });
        return command;
    }

    /// <summary>The <c>--detail</c> option: low, high or auto.</summary>
    internal static Option<string?> DetailOption() => new("--detail")
    {
        Description = "Image detail: low (one tile, fewest tokens), high or auto (tiles; the default).",
    };

    /// <summary>Parses <c>--detail</c>; null when not given.</summary>
    internal static ChatImageDetailLevel? ParseDetail(string? value)
    {
        // Not a conditional expression: the SDK's implicit conversion from string would turn a null into an exception.
        if (value is null)
        {
            return default(ChatImageDetailLevel?);
        }

        return value.Trim().ToLowerInvariant() switch
        {
            "low" => ChatImageDetailLevel.Low,
            "high" => ChatImageDetailLevel.High,
            "auto" => ChatImageDetailLevel.Auto,
            _ => throw new CliException($"--detail must be low, high or auto; got '{value}'."),
        };
    }

    /// <summary>An <c>image_url</c> part: an http(s) URL as is, a file as a base64 <c>data:</c> URL of its detected type.</summary>
    internal static ChatMessageContentPart ImagePart(string image, ChatImageDetailLevel? detail)
    {
        if (Uri.TryCreate(image, UriKind.Absolute, out var uri) && uri.Scheme is "https" or "http")
        {
            return ChatMessageContentPart.CreateImagePart(uri, detail);
        }

        var file = new FileInfo(image);
        if (!file.Exists)
        {
            throw new CliException($"{image}: no such file (give an image file or an https URL).");
        }

        if (file.Length > MaxImageBytes)
        {
            throw new CliException($"{image} is {file.Length} bytes; images up to {MaxImageBytes} bytes can be sent.");
        }

        var bytes = File.ReadAllBytes(file.FullName);
        return ChatMessageContentPart.CreateImagePart(BinaryData.FromBytes(bytes), MediaType(bytes, file.Extension), detail);
    }

    /// <summary>The media type from the file's first bytes (as the server decides), else from its extension.</summary>
    internal static string MediaType(ReadOnlySpan<byte> bytes, string extension)
    {
        if (bytes.StartsWith((ReadOnlySpan<byte>)[0x89, (byte)'P', (byte)'N', (byte)'G']))
        {
            return "image/png";
        }

        if (bytes.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xD8, 0xFF]))
        {
            return "image/jpeg";
        }

        if (bytes.StartsWith("GIF8"u8))
        {
            return "image/gif";
        }

        if (bytes.Length >= 12 && bytes.StartsWith("RIFF"u8) && bytes[8..12].SequenceEqual("WEBP"u8))
        {
            return "image/webp";
        }

        return extension.ToLowerInvariant() switch
        {
            ".png" => "image/png",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".gif" => "image/gif",
            ".webp" => "image/webp",
            _ => "application/octet-stream",
        };
    }
}
