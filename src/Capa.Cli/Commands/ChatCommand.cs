using System.ClientModel;
using System.CommandLine;
using System.Text;
using Capa.Cli.Repro;
using OpenAI.Chat;

namespace Capa.Cli.Commands;

/// <summary><c>capa chat "PROMPT"</c>: one chat completion through the official OpenAI SDK, streamed by default.</summary>
internal static class ChatCommand
{
    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "The user message." };
        var model = new Option<string>("--model", "-m")
        {
            Description = "Model id or alias.",
            DefaultValueFactory = _ => "gpt-4-1106-preview",
        };
        var system = new Option<string?>("--system", "-s") { Description = "A system message sent before the prompt." };
        var noStream = new Option<bool>("--no-stream") { Description = "Wait for the whole answer instead of streaming it." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();

        var command = new Command("chat", "Send one chat message and print the answer as it arrives.")
        {
            prompt, model, system, noStream, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
            var client = connection.CreateClient().GetChatClient(parse.GetValue(model)!);
            var messages = new List<ChatMessage>();
            if (parse.GetValue(system) is { Length: > 0 } systemText)
            {
                messages.Add(new SystemChatMessage(systemText));
            }

            messages.Add(new UserChatMessage(parse.GetValue(prompt)!));
            var summary = await EndpointErrors.CallAsync(connection.BaseUrl, () => parse.GetValue(noStream)
                ? CompleteAsync(client, messages, ct)
                : StreamAsync(client, messages, ct)).ConfigureAwait(false);
            Console.Error.WriteLine();
            Console.Error.WriteLine(summary);
        }));
        return command;
    }

    private static async Task<string> CompleteAsync(ChatClient client, List<ChatMessage> messages, CancellationToken ct)
    {
        ChatCompletion completion = await client.CompleteChatAsync(messages, cancellationToken: ct).ConfigureAwait(false);
        var text = new StringBuilder();
        foreach (var part in completion.Content)
        {
            text.Append(part.Text);
        }

        Console.Out.Write(text.ToString());
        Console.Out.Flush();
        return Summary(completion.Model, completion.SystemFingerprint, completion.Usage, completion.FinishReason.ToString());
    }

    private static async Task<string> StreamAsync(ChatClient client, List<ChatMessage> messages, CancellationToken ct)
    {
        string? modelId = null, fingerprint = null, finish = null;
        ChatTokenUsage? usage = null;
        AsyncCollectionResult<StreamingChatCompletionUpdate> updates = client.CompleteChatStreamingAsync(messages, cancellationToken: ct);
        await foreach (var update in updates.ConfigureAwait(false))
        {
            modelId ??= update.Model;
            fingerprint ??= update.SystemFingerprint;
            usage ??= update.Usage;
            if (update.FinishReason is { } reason)
            {
                finish = reason.ToString();
            }

            foreach (var part in update.ContentUpdate)
            {
                Console.Out.Write(part.Text);
            }

            Console.Out.Flush();
        }

        return Summary(modelId, fingerprint, usage, finish);
    }

    private static string Summary(string? model, string? fingerprint, ChatTokenUsage? usage, string? finish) =>
        $"[model {model ?? "?"} · system_fingerprint {fingerprint ?? "none"} · finish {finish ?? "?"} · " +
        (usage is null
            ? "usage not reported]"
            : $"prompt {usage.InputTokenCount} + completion {usage.OutputTokenCount} = {usage.TotalTokenCount} tokens]");
}
