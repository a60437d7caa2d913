using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests;

/// <summary>
/// Drives a constraint the way the most adversarial model would: uniformly among allowed tokens. After
/// <c>uniformSteps</c> it switches to a finisher that prefers tokens which close values, to check that
/// every state the walk reached can still finish.
/// </summary>
internal static class RandomWalker
{
    public sealed record Walk(byte[] Output, bool Finished, bool FinishedUniformly, int Tokens);

    public static Walk Run(TokenConstraint constraint, int seed, int uniformSteps, int finishSteps = 3000)
    {
        TokenVocabulary vocab = constraint.Vocabulary;
        ConstraintState state = constraint.CreateState();
        var rng = new Random(seed);
        var mask = new ulong[vocab.MaskWords];
        var allowed = new List<int>();
        var output = new List<byte>();
        for (int step = 0; step < uniformSteps + finishSteps; step++)
        {
            state.FillMask(mask);
            allowed.Clear();
            for (int id = 0; id < vocab.Count; id++)
            {
                if ((mask[id >> 6] & (1UL << (id & 63))) != 0)
                {
                    allowed.Add(id);
                }
            }

            Assert.True(allowed.Count > 0, $"Dead end after {output.Count} bytes: {System.Text.Encoding.UTF8.GetString([.. output])}");
            int pick;
            if (step < uniformSteps)
            {
                pick = allowed[rng.Next(allowed.Count)];
            }
            else
            {
                pick = Finisher(state, vocab, allowed, rng);
            }

            Assert.True(state.IsAllowed(pick), $"Masked token {pick} rejected by IsAllowed");
            state.Advance(pick);
            if (vocab.IsEndOfSequence(pick))
            {
                Assert.True(state.IsFinished);
                return new Walk([.. output], true, step < uniformSteps, step + 1);
            }

            output.AddRange(vocab.GetBytes(pick).ToArray());
        }

        return new Walk([.. output], false, false, uniformSteps + finishSteps);
    }

    /// <summary>Among allowed single-byte tokens, the one leaving the shallowest stack, then the most closing byte.</summary>
    private static int Finisher(ConstraintState state, TokenVocabulary vocab, List<int> allowed, Random rng)
    {
        int best = -1;
        int bestScore = int.MaxValue;
        foreach (int id in allowed)
        {
            if (vocab.IsEndOfSequence(id))
            {
                return id;
            }

            ReadOnlySpan<byte> bytes = vocab.GetBytes(id);
            if (bytes.Length != 1)
            {
                continue;
            }

            ConstraintState probe = state.Clone();
            probe.Advance(id);
            // Random among the shallowest, leaning to closing bytes, so that patterns get explored rather than looped.
            int score = (probe.Depth * 1000) + (rng.Next(2) == 0 ? Score(bytes[0]) : rng.Next(40));
            if (score < bestScore)
            {
                bestScore = score;
                best = id;
            }
        }

        return best;
    }

    private static int Score(byte b) => b switch
    {
        (byte)'}' or (byte)']' => 0,
        (byte)'"' => 1,
        (byte)'0' => 2,
        (byte)'1' or (byte)'5' => 3,
        (byte)'n' or (byte)'t' or (byte)'f' or (byte)'a' => 4,
        (byte)'-' or (byte)':' or (byte)',' or (byte)'.' => 5,
        >= (byte)'0' and <= (byte)'9' => 6,
        >= (byte)'a' and <= (byte)'z' => 7,
        >= 0x80 => 20,
        (byte)' ' or (byte)'\n' or (byte)'\t' or (byte)'\r' => 30,
        (byte)'{' or (byte)'[' => 25,
        _ => 10,
    };
}
