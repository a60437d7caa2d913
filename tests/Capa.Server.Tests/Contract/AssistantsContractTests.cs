using System.Net;
using Capa.Server.Tests.Assistants;
using Capa.Server.Tests.Infrastructure;

namespace Capa.Server.Tests.Contract;

/// <summary>Assistants and threads, checked against OpenAI's spec.</summary>
public sealed class AssistantsContractTests(AssistantsServerFixture fixture) : IClassFixture<AssistantsServerFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [SkippableFact]
    public async Task Assistants_and_threads_match_AssistantObject_and_ThreadObject()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        using var assistant = await fixture.Server.Http.PostAsync("/v1/assistants", SseTestReader.Json("""{"model":"local-chat","name":"contract","instructions":"Be brief."}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, assistant.StatusCode);
        OpenApiContract.AssertValid("AssistantObject", await assistant.Content.ReadAsStringAsync(Ct));

        using var thread = await fixture.Server.Http.PostAsync("/v1/threads", SseTestReader.Json("{}"), Ct);
        Assert.Equal(HttpStatusCode.OK, thread.StatusCode);
        OpenApiContract.AssertValid("ThreadObject", await thread.Content.ReadAsStringAsync(Ct));
    }
}
