using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Capa.Server.Hosting;

/// <summary>
/// The endpoints of one API area, mapped by the host with the built-in ones. An area registers its services and one
/// <see cref="ApiArea"/> (see <see cref="ApiAreaServiceCollectionExtensions.AddApiArea"/>); its local providers register
/// as <see cref="Routing.IModelProvider"/> so that routing and <c>/v1/models</c> find them. Nothing in the hosting or
/// routing code changes for a new area.
/// </summary>
/// <param name="Name">A short name for logs and diagnostics, e.g. <c>images</c>.</param>
/// <param name="Map">Maps the area's routes (paths under <c>/v1</c>).</param>
public sealed record ApiArea(string Name, Action<IEndpointRouteBuilder> Map);

/// <summary>Registration of API areas.</summary>
public static class ApiAreaServiceCollectionExtensions
{
    /// <summary>Registers an area whose routes <paramref name="map"/> adds when the server is built.</summary>
    public static IServiceCollection AddApiArea(this IServiceCollection services, string name, Action<IEndpointRouteBuilder> map)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(map);
        return services.AddSingleton(new ApiArea(name, map));
    }
}
