using System.Runtime.InteropServices;

namespace Capa.Engine.Text.Generation;

/// <summary>A request as the <see cref="GenerationLoop"/> drives it: prompt chunks first, then rounds of decode steps.</summary>
internal interface ILoopRequest
{
    /// <summary>Whether the request was cancelled (it is then failed without taking another turn).</summary>
    bool IsCancelled { get; }

    /// <summary>Feeds the next chunk of the prompt; true once the whole prompt is in and the request can decode.</summary>
    bool PrefillChunk();

    /// <summary>
    /// Samples the next token of each unfinished choice (emitting its text, logprobs and finish) and adds to
    /// <paramref name="slots"/> one slot per choice that goes on, whose logits the loop's decode step then writes; true
    /// once every choice has finished (the request has completed itself and added no slot).
    /// </summary>
    bool SampleRound(List<DecodeSlot> slots);

    /// <summary>Ends the request with <paramref name="error"/> and frees what it holds.</summary>
    void Fail(Exception error);
}

/// <summary>
/// One thread per model that runs every admitted request in rounds: each round samples one token for every unfinished
/// choice of every decoding request, feeds all those that go on to the model in decode steps of at most
/// <see cref="GenerationSchedulerOptions.MaxBatchSequences"/> sequences (<see cref="IDecoderModel.DecodeBatch"/>; one
/// sequence per step for a model that does not batch decode), then feeds one prompt chunk of the oldest request still
/// prefilling. So a long prompt delays the next token of each running stream by at most one chunk, and a new request's
/// first token comes after at most the chunks of the prompts admitted before it plus its own, one per round, whatever
/// the running streams still have to say. Prompt chunks are fed one sequence at a time with the chunk boundaries the
/// model would use alone, and a batching model's decode step gives each sequence the logits it would get alone, so what
/// runs beside a request never changes its numbers.
/// </summary>
internal sealed class GenerationLoop : IDisposable
{
    private readonly Lock _lock = new();
    private readonly Queue<ILoopRequest> _incoming = new();
    private readonly SemaphoreSlim _signal = new(0);
    private Thread? _thread;
    private readonly IDecoderModel _model;
    private readonly int _batchWidth;
    private readonly List<DecodeSlot> _slots = [];
    private readonly List<ILoopRequest> _owners = [];
    private readonly List<DecodeSlot> _batch = [];
    private readonly List<ILoopRequest> _batchOwners = [];
    private bool _stopped;

    /// <summary>Creates the loop of <paramref name="model"/>.</summary>
    /// <param name="model">The decoder every request of the loop runs on.</param>
    /// <param name="maxBatchSequences">Most sequences per decode step of a model that batches decode.</param>
    public GenerationLoop(IDecoderModel model, int maxBatchSequences)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxBatchSequences, 1);
        _model = model;

        // A model that does not batch feeds the sequences of a step one after the other anyway: steps of one keep a
        // failing forward to the request it belongs to.
        _batchWidth = model.BatchesDecode ? maxBatchSequences : 1;
    }

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

    // Every decoding request samples, then the sequences that go on take their decode steps. A request failing while it
    // samples (cancelled, out of context) ends alone; a step that throws ends the requests with a sequence in it. The
    // loop goes on serving the others.
    private void DecodeRound(List<ILoopRequest> decoding)
    {
        _slots.Clear();
        _owners.Clear();
        decoding.RemoveAll(request =>
        {
            var first = _slots.Count;
            try
            {
                var done = request.SampleRound(_slots);
                for (var i = first; i < _slots.Count; i++)
                {
                    _owners.Add(request);
                }

                return done;
            }
            catch (Exception ex)
            {
                _slots.RemoveRange(first, _slots.Count - first);
                request.Fail(ex);
                return true;
            }
        });

        HashSet<ILoopRequest>? failed = null;
        var next = 0;
        while (next < _slots.Count)
        {
            _batch.Clear();
            _batchOwners.Clear();
            for (; next < _slots.Count && _batch.Count < _batchWidth; next++)
            {
                // A request whose earlier step failed has freed its sequences: its other slots are dropped.
                if (failed is null || !failed.Contains(_owners[next]))
                {
                    _batch.Add(_slots[next]);
                    _batchOwners.Add(_owners[next]);
                }
            }

            if (_batch.Count == 0)
            {
                break;
            }

            GenerationMetrics.DecodeBatchSequences.Record(_batch.Count);
            try
            {
                _model.DecodeBatch(CollectionsMarshal.AsSpan(_batch));
            }
            catch (Exception ex)
            {
                failed ??= new HashSet<ILoopRequest>(ReferenceEqualityComparer.Instance);
                foreach (var owner in _batchOwners)
                {
                    if (failed.Add(owner))
                    {
                        owner.Fail(ex);
                    }
                }
            }
        }

        if (failed is not null)
        {
            decoding.RemoveAll(failed.Contains);
        }

        // The slots hold the requests' sequences and logits buffers: not kept past the round.
        _slots.Clear();
        _owners.Clear();
        _batch.Clear();
        _batchOwners.Clear();
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
                DecodeRound(decoding);
            }

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
