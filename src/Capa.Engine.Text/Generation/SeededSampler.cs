namespace Capa.Engine.Text.Generation;

/// <summary>
/// Picks one choice's tokens. Randomness is counter-based: the uniform number for completion token <c>t</c> of choice
/// <c>c</c> is Philox4x32-10 keyed by the request's seed at counter (t, c), so a choice's tokens depend only on
/// (seed, choice index, logits) and never on other requests or on how many were drawn before.
/// </summary>
/// <remarks>
/// Order of logit processing: ids the tokenizer lacks are banned, then <c>logit_bias</c> is added, then the presence and
/// frequency penalties are subtracted (OpenAI: <c>logit - count * frequency - (count &gt; 0) * presence</c>, over the
/// tokens this choice generated), then a constraint's mask, if any (see the overload taking a filter). Temperature 0
/// takes the argmax (lowest id on ties). Otherwise logits are divided by the temperature, truncated to <c>top_k</c> and
/// then to the smallest prefix (by descending probability, then id) holding <c>top_p</c> of the mass, and sampled by
/// inverse CDF. Reported log-probabilities are the log-softmax of that
/// truncated, tempered distribution (the one sampled from); for temperature 0 they are the log-softmax of the processed
/// logits at temperature 1 (the distribution whose mode was taken).
/// </remarks>
public sealed class SeededSampler
{
    private const int InitialCandidates = 64;

    // Single-token checks a top-k step may spend (beyond 2 * top_k) before it builds the whole mask instead.
    private const int MaxTokenChecks = 32;
    private readonly SamplingOptions _options;
    private readonly ulong _seed;
    private readonly uint _choice;
    private readonly int _allowedVocab;
    private int[] _heap = new int[InitialCandidates];
    private double[] _weights = new double[InitialCandidates];

    /// <summary>Creates the sampler of one choice.</summary>
    /// <param name="options">Sampling parameters (validated).</param>
    /// <param name="seed">The request's seed.</param>
    /// <param name="choiceIndex">The choice's index (its own random stream).</param>
    /// <param name="allowedVocab">Ids at or above this are never sampled (the model's vocab may exceed the tokenizer's).</param>
    public SeededSampler(SamplingOptions options, ulong seed, int choiceIndex, int allowedVocab)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        ArgumentOutOfRangeException.ThrowIfNegative(choiceIndex);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(allowedVocab);
        _options = options;
        _seed = seed;
        _choice = (uint)choiceIndex;
        _allowedVocab = allowedVocab;
    }

    /// <summary>
    /// Processes <paramref name="logits"/> in place (mask, bias, penalties) and picks a token.
    /// </summary>
    /// <param name="logits">The model's logits for the next position; overwritten.</param>
    /// <param name="position">Index of the token in the completion (the counter of the random stream).</param>
    /// <param name="counts">How often each token occurred so far in this choice's completion.</param>
    /// <param name="logprob">The sampled token's log-probability and top alternatives when asked for, else null.</param>
    /// <returns>The token id.</returns>
    /// <exception cref="InvalidOperationException">Every token is banned.</exception>
    public int Sample(Span<float> logits, long position, IReadOnlyDictionary<int, int> counts, out TokenLogprob? logprob) =>
        Sample(logits, position, counts, null, out logprob);

    /// <summary>
    /// Picks a token from <paramref name="logits"/> restricted to what <paramref name="filter"/> allows. The result is
    /// always the token (and log-probability) that sampling from the fully masked logits gives; the mask is built only
    /// when that cannot be settled by checking single tokens: temperature 0 without logprobs checks the argmax, and
    /// <c>top_k</c> sampling checks the best candidates in order until <c>top_k</c> of them are allowed (the masked
    /// top-k set). Other settings, and checks that run out of budget, build the mask.
    /// </summary>
    internal int Sample(Span<float> logits, long position, IReadOnlyDictionary<int, int> counts, ITokenFilter? filter, out TokenLogprob? logprob)
    {
        ArgumentNullException.ThrowIfNull(counts);
        Process(logits, counts);
        var (max, finite) = Scan(logits);
        if (filter is not null)
        {
            if (filter.CanCheck && finite > 0)
            {
                if (_options.Temperature == 0 && !_options.Logprobs)
                {
                    // The argmax of the masked logits is the raw argmax whenever that one is allowed (ties go to the lowest id in both).
                    var best = logits.IndexOf(max);
                    if (filter.IsAllowed(best))
                    {
                        logprob = null;
                        return best;
                    }
                }
                else if (_options.Temperature != 0 && _options.TopK > 0 && TrySelectAllowedTopK(logits, finite, filter, out var n))
                {
                    return PickTopK(logits, logits[_heap[0]], n, position, out logprob);
                }
            }

            filter.Apply(logits);
            (max, finite) = Scan(logits);
        }

        if (finite == 0)
        {
            throw new InvalidOperationException("Every token is banned at this position (logit_bias or constraints exclude all of them).");
        }

        return _options.Temperature == 0
            ? Greedy(logits, max, out logprob)
            : _options.TopK == 0 && _options.TopP >= 1
                ? SampleFull(logits, max, position, out logprob)
                : SampleTruncated(logits, max, finite, position, out logprob);
    }

    // NaN becomes negative infinity; returns the largest logit and how many are finite.
    private static (float Max, int Finite) Scan(Span<float> logits)
    {
        var max = float.NegativeInfinity;
        var finite = 0;
        for (var i = 0; i < logits.Length; i++)
        {
            var x = logits[i];
            if (float.IsNaN(x))
            {
                logits[i] = x = float.NegativeInfinity;
            }

            if (x > float.NegativeInfinity)
            {
                finite++;
                if (x > max)
                {
                    max = x;
                }
            }
        }

        return (max, finite);
    }

    /// <summary>
    /// Puts the best <c>top_k</c> allowed ids into <c>_heap[0..n)</c>, best first, checking candidates of the raw
    /// logits in order; false when that needs more than <see cref="MaxTokenChecks"/> checks (the caller masks).
    /// </summary>
    private bool TrySelectAllowedTopK(ReadOnlySpan<float> logits, int finite, ITokenFilter filter, out int n)
    {
        var k = _options.TopK;
        var budget = Math.Min(finite, (2 * k) + MaxTokenChecks);
        var window = Math.Min(budget, 2 * k);
        while (true)
        {
            var candidates = SelectTop(logits, window);
            n = 0;
            for (var j = 0; j < candidates && n < k; j++)
            {
                var id = _heap[j];
                if (filter.IsAllowed(id))
                {
                    _heap[n++] = id; // n <= j: compaction in place keeps the order
                }
            }

            if (n == k || candidates == finite)
            {
                return n > 0;
            }

            if (window >= budget)
            {
                return false;
            }

            window = Math.Min(budget, window * 4);
        }
    }

    private void Process(Span<float> logits, IReadOnlyDictionary<int, int> counts)
    {
        if (_allowedVocab < logits.Length)
        {
            logits[_allowedVocab..].Fill(float.NegativeInfinity);
        }

        if (_options.LogitBias is { } bias)
        {
            foreach (var (id, b) in bias)
            {
                if ((uint)id < (uint)logits.Length)
                {
                    logits[id] += b;
                }
            }
        }

        if (_options.PresencePenalty != 0 || _options.FrequencyPenalty != 0)
        {
            foreach (var (id, count) in counts)
            {
                if ((uint)id < (uint)logits.Length && count > 0)
                {
                    logits[id] -= (count * _options.FrequencyPenalty) + _options.PresencePenalty;
                }
            }
        }
    }

    private int Greedy(ReadOnlySpan<float> logits, float max, out TokenLogprob? logprob)
    {
        var best = logits.IndexOf(max);
        logprob = null;
        if (_options.Logprobs)
        {
            var z = 0.0;
            foreach (var x in logits)
            {
                z += Math.Exp(x - max);
            }

            var logZ = Math.Log(z);
            logprob = new TokenLogprob(best, (float)(logits[best] - max - logZ), TopOf(logits, max, 1.0, logZ));
        }

        return best;
    }

    private int SampleFull(ReadOnlySpan<float> logits, float max, long position, out TokenLogprob? logprob)
    {
        var invT = 1.0 / _options.Temperature;
        var z = 0.0;
        foreach (var x in logits)
        {
            z += Math.Exp((x - max) * invT);
        }

        var target = Philox4x32.Uniform(_seed, _choice, (ulong)position) * z;
        var cumulative = 0.0;
        var chosen = -1;
        for (var i = 0; i < logits.Length; i++)
        {
            var x = logits[i];
            if (x == float.NegativeInfinity)
            {
                continue;
            }

            chosen = i;
            cumulative += Math.Exp((x - max) * invT);
            if (cumulative > target)
            {
                break;
            }
        }

        logprob = null;
        if (_options.Logprobs)
        {
            var logZ = Math.Log(z);
            logprob = new TokenLogprob(chosen, (float)(((logits[chosen] - max) * invT) - logZ), TopOf(logits, max, invT, logZ));
        }

        return chosen;
    }

    private int SampleTruncated(ReadOnlySpan<float> logits, float max, int finite, long position, out TokenLogprob? logprob)
    {
        if (_options.TopK > 0)
        {
            return PickTopK(logits, max, SelectTop(logits, Math.Min(_options.TopK, finite)), position, out logprob);
        }

        var invT = 1.0 / _options.Temperature;
        var topP = (double)_options.TopP;
        var k = Math.Min(InitialCandidates, finite);
        var fullZ = 0.0;
        foreach (var x in logits)
        {
            fullZ += Math.Exp((x - max) * invT);
        }

        while (true)
        {
            var n = SelectTop(logits, k);
            EnsureWeights(n);
            for (var j = 0; j < n; j++)
            {
                _weights[j] = Math.Exp((logits[_heap[j]] - max) * invT);
            }

            // Smallest prefix whose cumulative mass reaches top_p of the distribution.
            var (kept, keptZ) = NucleusPrefix(n, topP * fullZ);
            if (keptZ >= topP * fullZ || n >= finite)
            {
                return PickKept(logits, max, kept, keptZ, position, out logprob);
            }

            k = (int)Math.Min((long)k * 4, finite);
        }
    }

    // top_k candidates are in _heap[0..n), best first; top_p applies within them.
    private int PickTopK(ReadOnlySpan<float> logits, float max, int n, long position, out TokenLogprob? logprob)
    {
        var invT = 1.0 / _options.Temperature;
        EnsureWeights(n);
        var total = 0.0;
        for (var j = 0; j < n; j++)
        {
            _weights[j] = Math.Exp((logits[_heap[j]] - max) * invT);
            total += _weights[j];
        }

        var (kept, keptZ) = NucleusPrefix(n, _options.TopP * total);
        return PickKept(logits, max, kept, keptZ, position, out logprob);
    }

    private (int Kept, double Mass) NucleusPrefix(int n, double need)
    {
        var cumulative = 0.0;
        var kept = 0;
        while (kept < n)
        {
            cumulative += _weights[kept++];
            if (cumulative >= need)
            {
                break;
            }
        }

        return (kept, cumulative);
    }

    // Samples among _heap[0..kept) with weights _weights[0..kept) summing to keptZ.
    private int PickKept(ReadOnlySpan<float> logits, float max, int kept, double keptZ, long position, out TokenLogprob? logprob)
    {
        var invT = 1.0 / _options.Temperature;
        var target = Philox4x32.Uniform(_seed, _choice, (ulong)position) * keptZ;
        var acc = 0.0;
        var pick = kept - 1;
        for (var j = 0; j < kept; j++)
        {
            acc += _weights[j];
            if (acc > target)
            {
                pick = j;
                break;
            }
        }

        var chosen = _heap[pick];
        logprob = null;
        if (_options.Logprobs)
        {
            var logZ = Math.Log(keptZ);
            var top = new TokenAlternative[Math.Min(_options.TopLogprobs, kept)];
            for (var j = 0; j < top.Length; j++)
            {
                top[j] = new TokenAlternative(_heap[j], (float)(((logits[_heap[j]] - max) * invT) - logZ));
            }

            logprob = new TokenLogprob(chosen, (float)(((logits[chosen] - max) * invT) - logZ), top);
        }

        return chosen;
    }

    private TokenAlternative[] TopOf(ReadOnlySpan<float> logits, float max, double invT, double logZ)
    {
        var n = SelectTop(logits, _options.TopLogprobs);
        var top = new TokenAlternative[n];
        for (var j = 0; j < n; j++)
        {
            top[j] = new TokenAlternative(_heap[j], (float)(((logits[_heap[j]] - max) * invT) - logZ));
        }

        return top;
    }

    private void EnsureWeights(int n)
    {
        if (_weights.Length < n)
        {
            _weights = new double[Math.Max(n, _weights.Length * 2)];
        }
    }

    // Better = larger logit, then smaller id: a total order, so selection never depends on scan or thread order.
    private static bool Better(ReadOnlySpan<float> v, int a, int b) => v[a] > v[b] || (v[a] == v[b] && a < b);

    /// <summary>Puts the <paramref name="k"/> best finite ids into <c>_heap[0..n)</c>, best first; returns n.</summary>
    private int SelectTop(ReadOnlySpan<float> v, int k)
    {
        if (k <= 0)
        {
            return 0;
        }

        if (_heap.Length < k)
        {
            _heap = new int[Math.Max(k, _heap.Length * 2)];
        }

        var heap = _heap.AsSpan();
        var n = 0;
        for (var i = 0; i < v.Length; i++)
        {
            if (v[i] == float.NegativeInfinity)
            {
                continue;
            }

            if (n < k)
            {
                // Min-heap under Better: the root is the worst kept id.
                var c = n++;
                heap[c] = i;
                while (c > 0)
                {
                    var p = (c - 1) / 2;
                    if (!Better(v, heap[p], heap[c]))
                    {
                        break;
                    }

                    (heap[p], heap[c]) = (heap[c], heap[p]);
                    c = p;
                }
            }
            else if (Better(v, i, heap[0]))
            {
                heap[0] = i;
                SiftDown(v, heap, n);
            }
        }

        // Heap sort: moving the worst to the end each time leaves the best first.
        for (var end = n - 1; end > 0; end--)
        {
            (heap[0], heap[end]) = (heap[end], heap[0]);
            SiftDown(v, heap, end);
        }

        return n;
    }

    private static void SiftDown(ReadOnlySpan<float> v, Span<int> heap, int n)
    {
        var c = 0;
        while (true)
        {
            var l = (2 * c) + 1;
            if (l >= n)
            {
                return;
            }

            var worst = l + 1 < n && Better(v, heap[l], heap[l + 1]) ? l + 1 : l;
            if (!Better(v, heap[c], heap[worst]))
            {
                return;
            }

            (heap[c], heap[worst]) = (heap[worst], heap[c]);
            c = worst;
        }
    }
}
