namespace Capa.Engine.Text.Generation;

/// <summary>A request as the <see cref="GenerationLoop"/> drives it: prompt chunks first, then rounds of decode steps.</summary>
internal interface ILoopRequest
{
    /// <summary>Whether the request was cancelled (it is then failed without taking another turn).</summary>
    bool IsCancelled { get; }

    /// <summary>Choices still decoding.</summary>
    int UnfinishedSequences { get; }

    /// <summary>Feeds the next chunk of the prompt; true once the whole prompt is in and the request can decode.</summary>
    bool PrefillChunk();

    /// <summary>Samples and feeds one token for each unfinished choice; true once every choice has finished (the request has completed itself).</summary>
    bool DecodeRound();

    /// <summary>Ends the request with <paramref name="error"/> and frees what it holds.</summary>
    void Fail(Exception error);
}

/// <summary>
/// One thread per model that runs every admitted request in rounds: each round gives every decoding request one token per
/// unfinished choice, then feeds one prompt chunk of the oldest request still prefilling. So a long prompt delays the
/// next token of each running stream by at most one chunk, and a new request's first token comes after at most the
/// chunks of the prompts admitted before it plus its own, one per round, whatever the running streams still have to say.
/// Each forward is still one sequence at batch 1 with the chunk boundaries the model would use alone, so what runs
/// beside a request never changes its numbers.
/// </summary>
internal sealed class GenerationLoop : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<ILoopRequest> _incoming = new();
    private readonly SemaphoreSlim _signal = new(0);
    private Thread? _thread;
    private bool _stopped;

    /// <summary>Requests prefilling (waiting for or taking their chunk turns) at the end of the last round.</summary>
    public int Prefilling { get; private set; }

    /// <summary>Requests decoding at the end of the last round.</summary>
    public int Decoding { get; private set; }

    /// <summary>Hands a request to the loop (starting its thread on first use).</summary>
    /// <exception cref="ObjectDisposedException">The loop has stopped.</exception>
    public void Enqueue(ILoopRequest request)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            _incoming.Enqueue(request);
            if (_thread is null)
            {
                _thread = new Thread(Run) { IsBackground = true, Name = "capa-generation" };
                _thread.Start();
            }

            _signal.Release();
        }
    }

    /// <summary>Stops the loop: requests still running or waiting fail with <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        Thread? thread;
        lock (_lock)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            thread = _thread;
            _signal.Release();
        }

        if (thread is not null && thread != Thread.CurrentThread)
        {
            // The caller disposes the model next: no forward may still be running then.
            thread.Join();
        }

        _signal.Dispose();
    }

    // A failing request ends with its error; the loop goes on serving the others. True when the request is done.
    private static bool DecodeTurn(ILoopRequest request)
    {
        try
        {
            return request.DecodeRound();
        }
        catch (Exception ex)
        {
            request.Fail(ex);
            return true;
        }
    }

    private static PrefillOutcome PrefillTurn(ILoopRequest request)
    {
        try
        {
            return request.PrefillChunk() ? PrefillOutcome.Ready : PrefillOutcome.Pending;
        }
        catch (Exception ex)
        {
            request.Fail(ex);
            return PrefillOutcome.Failed;
        }
    }

    private void Run()
    {
        var decoding = new List<ILoopRequest>();
        var prefilling = new List<ILoopRequest>();
        while (true)
        {
            bool stopped;
            lock (_lock)
            {
                while (_incoming.TryDequeue(out var request))
                {
                    prefilling.Add(request);
                }

                stopped = _stopped;
            }

            if (stopped)
            {
                foreach (var request in decoding.Concat(prefilling))
                {
                    request.Fail(new ObjectDisposedException(nameof(TextGenerationEngine)));
                }

                return;
            }

            // A cancelled request leaves at once rather than waiting for its prefill turn.
            prefilling.RemoveAll(r =>
            {
                if (!r.IsCancelled)
                {
                    return false;
                }

                r.Fail(new OperationCanceledException());
                return true;
            });

            Prefilling = prefilling.Count;
            Decoding = decoding.Count;
            if (decoding.Count == 0 && prefilling.Count == 0)
            {
                _signal.Wait();
                continue;
            }

            if (decoding.Count > 0)
            {
                GenerationMetrics.RoundSequences.Record(decoding.Sum(r => r.UnfinishedSequences));
            }

            decoding.RemoveAll(DecodeTurn);
            if (prefilling.Count > 0)
            {
                var head = prefilling[0];
                var outcome = PrefillTurn(head);
                if (outcome != PrefillOutcome.Pending)
                {
                    prefilling.RemoveAt(0);
                }

                if (outcome == PrefillOutcome.Ready)
                {
                    decoding.Add(head);
                }
            }
        }
    }

    private enum PrefillOutcome
    {
        Pending,
        Ready,
        Failed,
    }
}
