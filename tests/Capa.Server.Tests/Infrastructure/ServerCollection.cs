namespace Capa.Server.Tests.Infrastructure;

/// <summary>Tests that share the one <see cref="ServerFixture"/>.</summary>
[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
