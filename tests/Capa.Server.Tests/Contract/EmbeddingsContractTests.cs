using System.Net;
using Capa.Server.Tests.Embeddings;
using Capa.Server.Tests.Infrastructure;
using Capa.Server.Tests.VectorStores;

namespace Capa.Server.Tests.Contract;

/// <summary>Embeddings, checked against OpenAI's spec.</summary>
public sealed class EmbeddingsContractTests(EmbeddingsServerFixture fixture) : IClassFixture<EmbeddingsServerFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [SkippableFact]
    public async Task Float_embeddings_match_CreateEmbeddingResponse()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);

        // Only the float encoding: the spec types "embedding" as an array, while OpenAI sends a string for base64.
        using var response = await fixture.Server.Http.PostAsync("/v1/embeddings",
            SseTestReader.Json($$"""{"model":"{{EmbeddingsServerFixture.Model}}","input":["first text","second"]}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OpenApiContract.AssertValid("CreateEmbeddingResponse", await response.Content.ReadAsStringAsync(Ct));
    }
}

/// <summary>Vector stores, checked against OpenAI's spec.</summary>
public sealed class VectorStoresContractTests(VectorStoresServerFixture fixture) : IClassFixture<VectorStoresServerFixture>
{
    private static CancellationToken Ct => new CancellationTokenSource(TimeSpan.FromMinutes(1)).Token;

    [SkippableFact]
    public async Task A_vector_store_matches_VectorStoreObject()
    {
        Skip.If(OpenApiContract.Unavailable is not null, OpenApiContract.Unavailable);
        using var response = await fixture.Server.Http.PostAsync("/v1/vector_stores", SseTestReader.Json("""{"name":"contract"}"""), Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        OpenApiContract.AssertValid("VectorStoreObject", await response.Content.ReadAsStringAsync(Ct));
        OpenApiContract.AssertValid("ListVectorStoresResponse", await fixture.Server.Http.GetStringAsync("/v1/vector_stores", Ct));
    }
}
