namespace Capa.Server.Tests.Reproducibility;

/// <summary>One server over a fresh store (so serving capa-tiny), shared by the tests of a class.</summary>
public sealed class TinyServerFixture : IAsyncLifetime
{
    private readonly TempModels _models = new();

    internal LocalReproServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await LocalReproServer.StartAsync(_models.Path);

    public async Task DisposeAsync()
    {
        await Server.DisposeAsync();
        _models.Dispose();
    }
}
