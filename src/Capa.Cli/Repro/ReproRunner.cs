using System.ClientModel;
using System.Text;
using Capa.Cli.Commands;
using OpenAI.Chat;

namespace Capa.Cli.Repro;

/// <summary>Sends the repeated request through the official OpenAI SDK and records each run.</summary>
internal sealed class ReproRunner(ChatClient client, ReproSettings settings, Uri endpoint)
{
    /// <summary>The response header in which Capa returns the seed it used.</summary>
    public const string SeedHeader = "x-capa-seed";

    /// <summary>Runs the unseeded group, then the seeded one, reporting each run as it completes.</summary>
    public async Task<ReproReport> RunAsync(Action<ReproGroupKind, ReproRun>? onRun, CancellationToken ct)
    {
        var unseeded = new List<ReproRun>(settings.Runs);
        for (int i = 1; i <= settings.Runs; i++)
        {
            var run = await RunOnceAsync(i, seed: null, ct).ConfigureAwait(false);
            unseeded.Add(run);
            onRun?.Invoke(ReproGroupKind.Unseeded, run);
        }

        var seeded = new List<ReproRun>(settings.Runs);
        for (int i = 1; i <= settings.Runs; i++)
        {
            var run = await RunOnceAsync(i, settings.Seed, ct).ConfigureAwait(false);
            seeded.Add(run);
            onRun?.Invoke(ReproGroupKind.Seeded, run);
        }

        return new ReproReport(
            settings,
            new ReproGroup("Without seed", null, unseeded),
            new ReproGroup($"With seed {settings.Seed}", settings.Seed, seeded));
    }

    private async Task<ReproRun> RunOnceAsync(int number, long? seed, CancellationToken ct)
    {
        ChatMessage[] messages = [new SystemChatMessage(settings.System), new UserChatMessage(settings.Prompt)];
        var options = new ChatCompletionOptions
        {
            MaxOutputTokenCount = settings.MaxTokens,
            Temperature = settings.Temperature,
        };
#pragma warning disable OPENAI001 // Seed is marked experimental in the SDK; it is the very parameter under test here.
        options.Seed = seed;
#pragma warning restore OPENAI001

        ClientResult<ChatCompletion> result = await EndpointErrors.CallAsync(endpoint, () => client.CompleteChatAsync(messages, options, ct)).ConfigureAwait(false);
        ChatCompletion completion = result.Value;
        var content = new StringBuilder();
        foreach (var part in completion.Content)
        {
            content.Append(part.Text);
        }

        result.GetRawResponse().Headers.TryGetValue(SeedHeader, out string? seedHeader);
        var usage = completion.Usage;
        return new ReproRun(
            number,
            seed,
            content.ToString(),
            completion.SystemFingerprint,
            usage?.InputTokenCount,
            usage is null ? null : usage.TotalTokenCount - usage.InputTokenCount,
            string.IsNullOrWhiteSpace(seedHeader) ? null : seedHeader.Trim(),
            WireName(completion.FinishReason));
    }

    /// <summary>
    /// The SDK's enum name back in OpenAI's wire spelling, which is what the tutorial and the HTML report show.
    /// </summary>
    internal static string WireName(ChatFinishReason reason) => reason switch
    {
        ChatFinishReason.Stop => "stop",
        ChatFinishReason.Length => "length",
        ChatFinishReason.ContentFilter => "content_filter",
        ChatFinishReason.ToolCalls => "tool_calls",
        ChatFinishReason.FunctionCall => "function_call",
        _ => reason.ToString().ToLowerInvariant(),
    };
}

/// <summary>Which group a run belongs to.</summary>
internal enum ReproGroupKind
{
    Unseeded,
    Seeded,
}
