using Capa.Engine.Text.Generation;

namespace Capa.Engine.Text.Tests.Generation;

public sealed class GenerationSchedulerTests
{
    [Fact]
    public async Task Admits_Runs_Queues_ThenRefuses()
    {
        using var s = new GenerationScheduler(new GenerationSchedulerOptions { MaxConcurrentRequests = 2, MaxQueuedRequests = 1, RetryAfter = TimeSpan.FromSeconds(3) });
        var a = await s.AcquireAsync(CancellationToken.None);
        var b = await s.AcquireAsync(CancellationToken.None);
        var queued = s.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(queued.IsCompleted);
        var ex = await Assert.ThrowsAsync<GenerationQueueFullException>(() => s.AcquireAsync(CancellationToken.None).AsTask());
        Assert.Equal(TimeSpan.FromSeconds(3), ex.RetryAfter);
        Assert.Equal(3, ex.Capacity);
        a.Dispose();
        a.Dispose(); // a second dispose must not free a second slot
        var c = await queued;
        Assert.Equal(2, s.Running);
        b.Dispose();
        c.Dispose();
        Assert.Equal(0, s.Running);
        Assert.Equal(0, s.Admitted);
    }

    [Fact]
    public async Task CancelledWaiter_LeavesTheQueue()
    {
        using var s = new GenerationScheduler(new GenerationSchedulerOptions { MaxConcurrentRequests = 1, MaxQueuedRequests = 1 });
        using var held = await s.AcquireAsync(CancellationToken.None);
        using var cts = new CancellationTokenSource();
        var waiting = s.AcquireAsync(cts.Token).AsTask();
        await cts.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => waiting);
        Assert.Equal(1, s.Admitted);
        var again = s.AcquireAsync(CancellationToken.None).AsTask();
        Assert.False(again.IsCompleted);
        held.Dispose();
        (await again).Dispose();
    }

    [Fact]
    public async Task SequenceBudget_BoundsCachesAcrossRequests_FirstComeFirstServed()
    {
        using var s = new GenerationScheduler(new GenerationSchedulerOptions { MaxConcurrentRequests = 8, MaxConcurrentSequences = 3, MaxQueuedRequests = 4 });
        var two = await s.AcquireAsync(CancellationToken.None, 2);
        var another = s.AcquireAsync(CancellationToken.None, 2).AsTask();
        var one = s.AcquireAsync(CancellationToken.None, 1).AsTask();
        Assert.False(another.IsCompleted);
        Assert.False(one.IsCompleted); // it would fit, but it may not pass the request ahead of it
        Assert.Equal(2, s.RunningSequences);
        two.Dispose();
        (await another).Dispose();
        (await one).Dispose();

        // More choices than the budget: the request runs alone.
        var big = await s.AcquireAsync(CancellationToken.None, 5);
        Assert.Equal(3, s.RunningSequences);
        var small = s.AcquireAsync(CancellationToken.None, 1).AsTask();
        Assert.False(small.IsCompleted);
        big.Dispose();
        (await small).Dispose();
        Assert.Equal(0, s.RunningSequences);
        Assert.Equal(0, s.Admitted);
    }
}
