using System.ClientModel;
using System.CommandLine;
using OpenAI.Responses;

#pragma warning disable OPENAI001 // The Responses client is marked experimental.

namespace Capa.Cli.Commands;

/// <summary>
/// <c>capa respond "PROMPT" [--previous ID] [--conversation ID] [--stream]</c>: one turn through the Responses API.
/// Prints the answer (function calls as <c>name(arguments)</c>), then <c>response_id: resp_...</c> to chain the next
/// turn with <c>--previous</c>.
/// </summary>
internal static class RespondCommand
{
    internal const string DefaultModel = "gpt-4o";

    public static Command Create()
    {
        var prompt = new Argument<string>("prompt") { Description = "The user message." };
        var previous = new Option<string?>("--previous", "-p") { Description = "Continue from this response (previous_response_id)." };
        var conversation = new Option<string?>("--conversation", "-c") { Description = "Read from and append to this conversation (conv_...)." };
        var stream = new Option<bool>("--stream") { Description = "Print the answer as it is generated." };
        var model = new Option<string>("--model", "-m") { Description = "Model id or alias.", DefaultValueFactory = _ => DefaultModel };
        var instructions = new Option<string?>("--instructions", "-i") { Description = "Instructions (a system message) for this turn." };
        var maxTokens = new Option<int?>("--max-tokens") { Description = "max_output_tokens (at least 16)." };
        var baseUrl = ClientConnection.BaseUrlOption();
        var apiKey = ClientConnection.ApiKeyOption();
        var command = new Command("respond", "One turn through the Responses API; prints the answer and the response id for --previous.")
        {
            prompt, previous, conversation, stream, model, instructions, maxTokens, baseUrl, apiKey,
        };
        command.SetAction((parse, ct) => CliRunner.RunAsync(async () =>
        {
            if (parse.GetValue(previous) is not null && parse.GetValue(conversation) is not null)
            {
                throw new CliException("--previous and --conversation cannot be used together.");
            }

            var connection = ClientConnection.Resolve(parse.GetValue(baseUrl), parse.GetValue(apiKey));
            var options = new CreateResponseOptions(parse.GetValue(model) ?? DefaultModel, [ResponseItem.CreateUserMessageItem(parse.GetValue(prompt) ?? string.Empty)])
            {
                PreviousResponseId = parse.GetValue(previous),
                ConversationOptions = parse.GetValue(conversation) is { } id ? new ResponseConversationOptions(id) : null,
                Instructions = parse.GetValue(instructions),
                MaxOutputTokenCount = parse.GetValue(maxTokens),
            };
            var output = parse.InvocationConfiguration.Output;
            var client = connection.CreateClient().GetResponsesClient();
            ResponseResult result;
            try
            {
                result = parse.GetValue(stream)
                    ? await StreamAsync(client, options, output, ct).ConfigureAwait(false)
                    : (await client.CreateResponseAsync(options, ct).ConfigureAwait(false)).Value;
            }
            catch (ClientResultException e)
            {
                throw new CliException($"the server answered {e.Status}: {e.Message}");
            }

            if (!parse.GetValue(stream))
            {
                output.WriteLine(Render(result));
            }

            if (result.Status is ResponseStatus.Incomplete)
            {
                output.WriteLine("(cut off at the token limit)");
            }

            output.WriteLine($"response_id: {result.Id}");
        }));
        return command;
    }

    private static async Task<ResponseResult> StreamAsync(ResponsesClient client, CreateResponseOptions options, TextWriter output, CancellationToken ct)
    {
        options.StreamingEnabled = true;
        ResponseResult? final = null;
        await foreach (var update in (await client.CreateResponseStreamingAsync(options, ct).ConfigureAwait(false)).WithCancellation(ct).ConfigureAwait(false))
        {
            switch (update)
            {
                case StreamingResponseOutputTextDeltaUpdate delta:
                    await output.WriteAsync(delta.Delta).ConfigureAwait(false);
                    await output.FlushAsync(ct).ConfigureAwait(false);
                    break;
                case StreamingResponseOutputItemDoneUpdate { Item: FunctionCallResponseItem call }:
                    await output.WriteLineAsync(FormatCall(call)).ConfigureAwait(false);
                    break;
                case StreamingResponseCompletedUpdate completed:
                    final = completed.Response;
                    break;
                case StreamingResponseIncompleteUpdate incomplete:
                    final = incomplete.Response;
                    break;
                case StreamingResponseFailedUpdate failed:
                    throw new CliException($"the response failed: {failed.Response.Error?.Message}");
                case StreamingResponseErrorUpdate error:
                    throw new CliException($"the response failed: {error.Message}");
            }
        }

        await output.WriteLineAsync().ConfigureAwait(false);
        return final ?? throw new CliException("the stream ended before the response finished.");
    }

    /// <summary>The answer's text, and each function call on a line of its own.</summary>
    internal static string Render(ResponseResult result)
    {
        var lines = new List<string>();
        foreach (var item in result.OutputItems)
        {
            switch (item)
            {
                case MessageResponseItem message:
                    lines.Add(string.Concat(message.Content.Select(c => c.Text ?? c.Refusal)));
                    break;
                case FunctionCallResponseItem call:
                    lines.Add(FormatCall(call));
                    break;
            }
        }

        return string.Join(Environment.NewLine, lines);
    }

    private static string FormatCall(FunctionCallResponseItem call) => $"{call.FunctionName}({call.FunctionArguments}) [call_id: {call.CallId}]";
}
