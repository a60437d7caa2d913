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
    [InlineData("gpt-4-vision-preview", "local-vision")]
    [InlineData("dall-e-3", "local-image")]
    public async Task BuiltInAlias_PrefersALocalModelWithTheCapability(string alias, string target)
    {
        var route = await Router([new LocalTestProvider()], [Upstream("u", "*")]).ResolveAsync(alias, default);
        Assert.Equal("local", route!.Provider.Name);
        Assert.Equal(target, route.TargetModel);
        Assert.Equal(alias, route.RequestedModel);
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
