using Capa.Server.Hosting;
using Capa.Server.Providers.Upstream;
using Capa.Server.Routing;
using Capa.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;

namespace Capa.Server.Tests.Routing;

public sealed class ModelRouterTests
{
    private static readonly HttpClient Unused = new();

    private static UpstreamChatProvider Upstream(string name, params string[] models) =>
        new(new UpstreamOptions { Name = name, BaseUrl = new Uri("http://127.0.0.1:9/v1"), Models = models }, Unused, TimeSpan.FromSeconds(1), NullLogger.Instance);

    private static ModelRouter Router(IChatProvider[] local, UpstreamChatProvider[] upstreams, Dictionary<string, string>? aliases = null) =>
        new(local, upstreams, aliases ?? []);

    [Fact]
    public async Task LocalModel_WinsOverUpstreams()
    {
        var local = new LocalTestProvider();
        var router = Router([local], [Upstream("u", "local-chat", "*")]);
        var route = await router.ResolveAsync("local-chat", default);
        Assert.Same(local, route!.Provider);
        Assert.Equal("local-chat", route.TargetModel);
    }

    [Fact]
    public async Task ConfiguredAlias_WinsOverBuiltIn_AndKeepsTheRequestedId()
    {
        var upstream = Upstream("u", "remote");
        var router = Router([new LocalTestProvider()], [upstream], new() { ["gpt-4o"] = "remote" });
        var route = await router.ResolveAsync("gpt-4o", default);
        Assert.Same(upstream, route!.Provider);
        Assert.Equal("remote", route.TargetModel);
        Assert.Equal("gpt-4o", route.RequestedModel);
    }

    [Fact]
    public async Task ConfiguredAlias_ToAWildcardUpstream_RewritesTheId()
    {
        var upstream = Upstream("u", "*");
        var route = await Router([], [upstream], new() { ["fast"] = "gpt-4o-mini" }).ResolveAsync("fast", default);
        Assert.Same(upstream, route!.Provider);
        Assert.Equal("gpt-4o-mini", route.TargetModel);
        Assert.Null(route.Model);
    }

    [Fact]
    public async Task UpstreamNamingTheId_WinsOverABuiltInAlias()
    {
        var upstream = Upstream("u", "gpt-4-1106-preview");
        var route = await Router([new LocalTestProvider()], [upstream]).ResolveAsync("gpt-4-1106-preview", default);
        Assert.Same(upstream, route!.Provider);
    }

    [Theory]
    [InlineData("gpt-4-1106-preview", "local-chat")]
    [InlineData("gpt-4o", "local-chat")]
    [InlineData("gpt-4-vision-preview", "local-chat")]
    [InlineData("gpt-4.1-mini", "local-chat")]
    [InlineData("dall-e-3", "local-image")]
    public async Task BuiltInAlias_PrefersALocalModelWithTheCapability(string alias, string target)
    {
        var route = await Router([new LocalTestProvider()], [Upstream("u", "*")]).ResolveAsync(alias, default);
        Assert.Equal("local", route!.Provider.Name);
        Assert.Equal(target, route.TargetModel);
        Assert.Equal(alias, route.RequestedModel);
    }

    [Theory]
    [InlineData("gpt-4-vision-preview")]
    [InlineData("gpt-4o")]
    [InlineData("gpt-4o-mini")]
    [InlineData("gpt-4-turbo")]
    [InlineData("gpt-4.1")]
    [InlineData("gpt-4.1-nano")]
    [InlineData("gpt-4.1-2025-04-14")]
    public async Task VisionAlias_GoesToTheVisionModelWithAnImage_AndToTheChatModelWithout(string alias)
    {
        var router = Router([new LocalTestProvider()], []);
        var withImage = await router.ResolveAsync(alias, ModelCapabilities.Vision, default);
        Assert.Equal("local-vision", withImage!.TargetModel);
        Assert.Equal(alias, withImage.RequestedModel);
        var text = await router.ResolveAsync(alias, ModelCapabilities.None, default);
        Assert.Equal("local-chat", text!.TargetModel);
    }

    [Theory]
    [InlineData("gpt-3.5-turbo")]
    [InlineData("gpt-4")]
    public async Task TextAlias_KeepsAnImageOnItsChatModel_WhichLacksVision(string alias)
    {
        var route = await Router([new LocalTestProvider()], []).ResolveAsync(alias, ModelCapabilities.Vision, default);
        Assert.Equal("local-chat", route!.TargetModel);
        Assert.True(ModelRouter.Lacks(route, ModelCapabilities.Vision));
    }

    [Fact]
    public async Task List_ShowsVisionOnTheAliasesThatTakeImages()
    {
        var list = await Router([new LocalTestProvider()], []).ListAsync(default);
        ModelCapabilities Of(string id) => list.Single(m => m.Id == id).Capabilities;
        Assert.True(Of("gpt-4o").HasFlag(ModelCapabilities.Chat | ModelCapabilities.Vision));
        Assert.True(Of("gpt-4-vision-preview").HasFlag(ModelCapabilities.Chat | ModelCapabilities.Vision));
        Assert.False(Of("gpt-3.5-turbo").HasFlag(ModelCapabilities.Vision));
        Assert.False(Of("local-chat").HasFlag(ModelCapabilities.Vision));
    }

    [Fact]
    public async Task BuiltInAlias_WithoutLocalModel_GoesToTheWildcardUpstreamUnchanged()
    {
        var upstream = Upstream("u", "*");
        var route = await Router([new LocalTestProvider()], [upstream]).ResolveAsync("whisper-1", default);
        Assert.Same(upstream, route!.Provider);
        Assert.Equal("whisper-1", route.TargetModel);
    }

    [Fact]
    public async Task NothingServesIt_IsNull()
    {
        Assert.Null(await Router([new LocalTestProvider()], [Upstream("u", "a")]).ResolveAsync("tts-1", default));
        Assert.Null(await Router([], []).ResolveAsync("gpt-4o", default));
        Assert.Null(await Router([], [], new() { ["x"] = "missing" }).ResolveAsync("x", default));
    }

    [Fact]
    public async Task List_HasModelsAndResolvableAliases_Once()
    {
        var list = await Router([new LocalTestProvider()], [Upstream("u", "remote", "local-chat", "*")], new() { ["mine"] = "remote" }).ListAsync(default);
        var ids = list.Select(m => m.Id).ToList();
        Assert.Equal(ids.Distinct().Count(), ids.Count);
        Assert.Contains("remote", ids);
        Assert.Contains("mine", ids);
        Assert.Contains("gpt-4o", ids);
        Assert.DoesNotContain("whisper-1", ids);
        Assert.DoesNotContain("*", ids);
        Assert.Equal("capa", list.Single(m => m.Id == "local-chat").OwnedBy);
        Assert.Equal("u", list.Single(m => m.Id == "remote").OwnedBy);
    }
}
