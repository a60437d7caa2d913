using System.ClientModel;
using System.CommandLine;
using System.Text;
using Capa.Cli.Repro;
using OpenAI.Chat;

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa chat "PROMPT"</c>: one chat completion through the official OpenAI SDK, streamed by default. On a terminal the
/// answer is shown with its control characters escaped (see <see cref="TerminalText"/>): model output never drives the
/// terminal. Piped or redirected, it is written as received.
/// </summary>
internal static class ChatCommand
{
    public static Command Create() => Create(TerminalText.IsTerminal);

    /// <param name="isTerminal">Whether a writer shows text on a terminal (tests stand in for one).</param>
    internal static Command Create(Func<TextWriter, bool> isTerminal)
    {
        var prompt = new Argument<string>("prompt") { Description = "The user message." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model id or alias.",
            DefaultValueFactory = _ => "gpt-4-1106-preview",
        };
        var system = new Option<string?>("--system", "-s") { Description = "A system message sent before the prompt." };
        var noStream = new Option<bool>("--no-stream") { Description = "Wait for the whole answer instead of streaming it." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "The longest answer, in tokens (max_tokens; default: as long as the model's context allows)." };
        var seed = new Option<long?>("--seed") { Description = "Sampling seed: the same seed, prompt and settings give the same answer (see capa repro)." };
        var temperature = new Option<float?>("--temperature", "-t") { Description = "Sampling temperature, 0 to 2 (default 1; 0 picks the likeliest token every time)." };
        var topP = new Option<float?>("--top-p") { Description = "Nucleus sampling: keep the likeliest tokens holding this much of the probability, 0 to 1 (default 1; 0 keeps the likeliest token alone)." };
        var images = new Option<string[]>("--image", "-i")
        {
            Description = "An image sent with the prompt: a file (sent as a base64 data: URL) or an https URL; repeat for several.",
            Arity = ArgumentArity.ZeroOrMore,
        };
        var detail = VisionCommand.DetailOption();
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();

        var command = new Command("chat", "Send one chat message and print the answer as it arrives.")
        {
            prompt, model, system, noStream, maxTokens, seed, temperature, topP, images, detail, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            return CliRunner.RunAsync(
                async () =>
                {
                    var options = Options(parse.GetValue(maxTokens), parse.GetValue(seed), parse.GetValue(temperature), parse.GetValue(topP));
                    var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
                    var client = connection.CreateClient().GetChatClient(parse.GetValue(model)!);
                    var messages = new List<ChatMessage>();
                    if (parse.GetValue(system) is { Length: > 0 } systemText)
                    {
                        messages.Add(new SystemChatMessage(systemText));
                    }

                    messages.Add(UserMessage(parse.GetValue(prompt)!, parse.GetValue(images) ?? [], VisionCommand.ParseDetail(parse.GetValue(detail))));
                    await Send(client, connection, messages, options, parse.GetValue(noStream), output, error, isTerminal, ct).ConfigureAwait(false);
                },
                error,
                isTerminal);
        });
        return command;
    }

    /// <summary>The user message: the text alone, or the text then each image as an <c>image_url</c> part.</summary>
    internal static UserChatMessage UserMessage(string text, IReadOnlyList<string> images, ChatImageDetailLevel? detail)
    {
        if (images.Count == 0)
        {
            return new UserChatMessage(text);
        }

        var parts = new List<ChatMessageContentPart> { ChatMessageContentPart.CreateTextPart(text) };
        parts.AddRange(images.Select(image => VisionCommand.ImagePart(image, detail)));
        return new UserChatMessage(parts);
    }

    /// <summary>Sends the messages, prints the answer (streamed unless <paramref name="noStream"/>) and the summary line.</summary>
    internal static async Task Send(ChatClient client, ClientConnection connection, List<ChatMessage> messages, ChatCompletionOptions options, bool noStream,
        TextWriter output, TextWriter error, Func<TextWriter, bool> isTerminal, CancellationToken ct)
    {
        var show = TerminalText.For(output, isTerminal);
        var summary = await EndpointErrors.CallAsync(connection.BaseUrl, () => noStream
            ? CompleteAsync(client, messages, options, output, show, ct)
            : StreamAsync(client, messages, options, output, show, ct)).ConfigureAwait(false);
        await error.WriteLineAsync().ConfigureAwait(false);
        await error.WriteLineAsync(TerminalText.For(error, isTerminal)(summary)).ConfigureAwait(false);
    }

    internal static ChatCompletionOptions Options(int? maxTokens, long? seed, float? temperature, float? topP = null)
    {
        if (maxTokens is < 1)
        {
            throw new CliException($"--max-tokens must be at least 1; got {maxTokens}.");
        }

        if (temperature is { } t && !Capa.Protocol.SamplingRanges.Temperature.Contains(t))
        {
            throw new CliException($"--temperature must be {Capa.Protocol.SamplingRanges.Temperature}; got {temperature}.");
        }

        if (topP is { } p && !Capa.Protocol.SamplingRanges.TopP.Contains(p))
        {
            throw new CliException($"--top-p must be {Capa.Protocol.SamplingRanges.TopP}; got {topP}.");
        }

        var options = new ChatCompletionOptions { MaxOutputTokenCount = maxTokens, Temperature = temperature, TopP = topP };
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; OpenAI's API documents it.
        options.Seed = seed;
#pragma warning restore OPENAI001
        return options;
    }

    private static async Task<string> CompleteAsync(
        ChatClient client, List<ChatMessage> messages, ChatCompletionOptions options, TextWriter output, Func<string, string> show, CancellationToken ct)
    {
        ChatCompletion completion = await client.CompleteChatAsync(messages, options, ct).ConfigureAwait(false);
        var text = new StringBuilder();
        foreach (var part in completion.Content)
        {
            text.Append(part.Text);
        }

        output.Write(show(text.ToString()));
        output.Flush();
        return Summary(completion.Model, completion.SystemFingerprint, completion.Usage, ReproRunner.WireName(completion.FinishReason));
    }

    private static async Task<string> StreamAsync(
        ChatClient client, List<ChatMessage> messages, ChatCompletionOptions options, TextWriter output, Func<string, string> show, CancellationToken ct)
    {
        string? modelId = null, fingerprint = null, finish = null;
        ChatTokenUsage? usage = null;
        AsyncCollectionResult<StreamingChatCompletionUpdate> updates = client.CompleteChatStreamingAsync(messages, options, ct);
        await foreach (var update in updates.ConfigureAwait(false))
        {
            modelId ??= update.Model;
            fingerprint ??= update.SystemFingerprint;
            usage ??= update.Usage;
            if (update.FinishReason is { } reason)
            {
                finish = ReproRunner.WireName(reason);
            }

            foreach (var part in update.ContentUpdate)
            {
                output.Write(show(part.Text));
            }

            output.Flush();
        }

        return Summary(modelId, fingerprint, usage, finish);
    }

    private static string Summary(string? model, string? fingerprint, ChatTokenUsage? usage, string? finish) =>
        $"[model {model ?? "?"} · system_fingerprint {fingerprint ?? "none"} · finish {finish ?? "?"} · " +
        (usage is null
            ? "usage not reported]"
            : $"prompt {usage.InputTokenCount} + completion {usage.OutputTokenCount} = {usage.TotalTokenCount} tokens]");
}
