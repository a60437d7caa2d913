using Capa.Server.Limits;
using Microsoft.AspNetCore.Http;

namespace Capa.Server.Tests.Limits;

public sealed class BodyBudgetTests
{
    private const long Mib = 1024 * 1024;

    private static DefaultHttpContext Request(long length)
    {
        var context = new DefaultHttpContext();
        context.Request.ContentLength = length;
        return context;
    }

    [Fact]
    public async Task A_body_read_twice_by_one_request_takes_its_share_once()
    {
        using var budget = new BodyBudget(16 * Mib); // 32 MiB in all
        var first = Request(16 * Mib);
        await budget.AdmitAsync(first, CancellationToken.None);

        // The same request again (its body read a second time to forward it) does not wait on itself.
        var again = budget.AdmitAsync(first, CancellationToken.None);
        Assert.True(again.IsCompleted);

        // Another request of the same size fits what is left; a third waits.
        await budget.AdmitAsync(Request(16 * Mib), CancellationToken.None);
        using var cancel = new CancellationTokenSource();
        var third = budget.AdmitAsync(Request(16 * Mib), cancel.Token).AsTask();
        Assert.False(third.IsCompleted);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => third);
    }

    [Fact]
    public async Task Small_bodies_are_not_counted_and_released_large_ones_let_waiters_in()
    {
        using var budget = new BodyBudget(16 * Mib);
        for (var i = 0; i < 100; i++)
        {
            Assert.Null(await budget.EnterAsync(BodyBudget.SmallBody, CancellationToken.None));
        }

        var a = await budget.EnterAsync(16 * Mib, CancellationToken.None);
        var b = await budget.EnterAsync(16 * Mib, CancellationToken.None);
        var waiting = budget.EnterAsync(16 * Mib, CancellationToken.None).AsTask();
        Assert.False(waiting.IsCompleted);
        a!.Dispose();
        using var c = await waiting;
        Assert.NotNull(c);
        b!.Dispose();
    }
}
