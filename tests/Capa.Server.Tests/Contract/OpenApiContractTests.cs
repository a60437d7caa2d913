using System.Text.Json.Nodes;
using Capa.Server.Tests.Infrastructure;
using Xunit.Sdk;

namespace Capa.Server.Tests.Contract;

/// <summary>The contract checker itself: it passes what the spec allows and names what it does not.</summary>
public sealed class OpenApiContractTests
{
    private const string ValidCompletion = """
        {"id":"chatcmpl-1","object":"chat.completion","created":1764950400,"model":"m","system_fingerprint":"fp",
         "choices":[{"index":0,"finish_reason":"stop","logprobs":null,
                     "message":{"role":"assistant","content":"Hi","refusal":null}}],
         "usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4},
         "some_field_openai_added_later":{"x":1}}
        """;

    private static JsonObject Completion() => JsonNode.Parse(ValidCompletion)!.AsObject();

    [SkippableFact]
    public void A_valid_completion_passes_with_fields_the_spec_does_not_name()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        Assert.Empty(OpenApiContract.Validate("CreateChatCompletionResponse", ValidCompletion));
        OpenApiContract.AssertValid("CreateChatCompletionResponse", ValidCompletion);
    }

    [SkippableFact]
    public void A_missing_required_field_is_named()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        var json = Completion();
        json.Remove("created");
        var violations = OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString());
        var v = Assert.Single(violations);
        Assert.Equal("required", v.Keyword);
        Assert.Equal("", v.InstancePath);
        Assert.Contains("created", v.Message, StringComparison.Ordinal);

        // A required field deep inside (through two $refs) is found too: message.refusal is required.
        json = Completion();
        json["choices"]![0]!["message"]!.AsObject().Remove("refusal");
        v = Assert.Single(OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString()));
        Assert.Equal("/choices/0/message", v.InstancePath);
        Assert.Contains("refusal", v.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void A_wrong_enum_value_is_named()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        var json = Completion();
        json["choices"]![0]!["finish_reason"] = "done";
        var violations = OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString());
        Assert.Contains(violations, v => v.InstancePath == "/choices/0/finish_reason" && v.Keyword == "enum");

        json = Completion();
        json["object"] = "chat.completion.chunk";
        Assert.Contains(OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString()), v => v.InstancePath == "/object" && v.Keyword == "enum");
    }

    [SkippableFact]
    public void A_wrong_type_is_named()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        var json = Completion();
        json["created"] = "1764950400";
        Assert.Contains(OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString()), v => v.InstancePath == "/created" && v.Keyword == "type");

        // A nullable field (anyOf string | null) rejects a number.
        json = Completion();
        json["choices"]![0]!["message"]!["content"] = 42;
        Assert.Contains(OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString()), v => v.InstancePath == "/choices/0/message/content");
    }

    [SkippableFact]
    public void A_unix_time_in_milliseconds_breaks_the_unixtime_format()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        var json = Completion();
        json["created"] = 1764950400123;
        Assert.Contains(OpenApiContract.Validate("CreateChatCompletionResponse", json.ToJsonString()), v => v.InstancePath == "/created" && v.Keyword == "format");
    }

    [SkippableFact]
    public void OpenApi_30_nullable_admits_null_and_still_checks_the_value()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);

        // The chunk's finish_reason is "type: string, enum: [...], nullable: true" in the spec.
        const string Chunk = """
            {"id":"c","object":"chat.completion.chunk","created":1764950400,"model":"m",
             "choices":[{"index":0,"delta":{"content":"x"},"finish_reason":null}]}
            """;
        Assert.Empty(OpenApiContract.Validate("CreateChatCompletionStreamResponse", Chunk));
        Assert.NotEmpty(OpenApiContract.Validate("CreateChatCompletionStreamResponse", Chunk.Replace("\"finish_reason\":null", "\"finish_reason\":\"finished\"", StringComparison.Ordinal)));
    }

    [SkippableFact]
    public void AssertValid_fails_listing_each_violation()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        var json = Completion();
        json.Remove("id");
        json["model"] = 7;
        var error = Assert.Throws<XunitException>(() => OpenApiContract.AssertValid("CreateChatCompletionResponse", json.ToJsonString()));
        Assert.Contains("CreateChatCompletionResponse", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"id\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("/model: type", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public void Union_members_are_found_by_their_type()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        Assert.Equal("ResponseCompletedEvent", OpenApiContract.MemberForType("ResponseStreamEvent", "response.completed"));
        Assert.Equal("ResponseTextDeltaEvent", OpenApiContract.MemberForType("ResponseStreamEvent", "response.output_text.delta"));
        Assert.Null(OpenApiContract.MemberForType("ResponseStreamEvent", "response.made_up"));
    }

    [SkippableFact]
    public void Every_reference_in_the_spec_resolves()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);

        // Building a schema resolves its $refs: a name the conversion lost would throw here.
        foreach (var name in new[] { "Response", "RunObject", "ImagesResponse", "ErrorResponse" })
        {
            Assert.NotEmpty(OpenApiContract.Validate(name, "[]"));
        }
    }
}
