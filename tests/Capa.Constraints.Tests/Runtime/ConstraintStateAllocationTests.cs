using System.Text;
using Capa.Constraints.Grammars;
using Capa.Constraints.Runtime;
using Capa.Constraints.Vocabulary;

namespace Capa.Constraints.Tests.Runtime;

/// <summary>
/// The sampled-token check runs on every step: the automaton's configurations are stepped into lists the walker keeps,
/// so checking a token costs no list per byte, and a rejected token costs nothing at all.
/// </summary>
public sealed class ConstraintStateAllocationTests
{
    [Fact]
    public void Checks_AllocateNoListsOnlyTheAutomatonsFrames()
    {
        // A literal's frame is a position: stepping it allocates one small frame per accepted byte and nothing on a
        // rejected one, so what a check allocates beyond that would be the walker's own lists.
        TokenVocabulary vocab = TestVocabularies.Random(3);
        ConstraintState state = TokenConstraint.Create(Grammar.Literal("hello world"), vocab).CreateState();
        int[] ids = [.. Enumerable.Range(0, vocab.Count).Where(id => !vocab.GetBytes(id).IsEmpty)];
        int[] accepted = [.. ids.Where(state.IsAllowed)];
        int[] rejected = [.. ids.Where(id => !state.IsAllowed(id))];
        Assert.NotEmpty(accepted);
        Assert.NotEmpty(rejected);

        long start = GC.GetAllocatedBytesForCurrentThread();
        bool any = false;
        for (int round = 0; round < 20; round++)
        {
            foreach (int id in rejected)
            {
                any |= state.IsAllowed(id);
            }
        }

        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - start);
        Assert.False(any);

        // A frame: the object header (16 bytes), its parent and owner (8 each), its position (4), rounded to 8.
        long frames = 20L * accepted.Sum(id => vocab.GetBytes(id).Length) * 40;
        start = GC.GetAllocatedBytesForCurrentThread();
        bool all = true;
        for (int round = 0; round < 20; round++)
        {
            foreach (int id in accepted)
            {
                all &= state.IsAllowed(id);
            }
        }

        Assert.InRange(GC.GetAllocatedBytesForCurrentThread() - start, 0, frames);
        Assert.True(all);
    }

    [Fact]
    public void ChecksBetweenAdvances_LeaveTheStateWhereItWas()
    {
        // The walker's lists are reused by every check: the configurations an advance kept must not be among them.
        TokenVocabulary vocab = TestVocabularies.Random(9);
        TokenConstraint constraint = TokenConstraint.Create(JsonGrammar.AnyObject(), vocab);
        ConstraintState checkedOften = constraint.CreateState();
        ConstraintState checkedNever = constraint.CreateState();
        var mask = new ulong[vocab.MaskWords];
        var rng = new Random(5);
        var text = new StringBuilder();
        for (int step = 0; step < 60 && !checkedOften.IsFinished; step++)
        {
            for (int id = 0; id < vocab.Count; id++)
            {
                checkedOften.IsAllowed(id);
            }

            checkedNever.FillMask(mask);
            var allowed = Enumerable.Range(0, vocab.Count).Where(id => (mask[id >> 6] & (1UL << (id & 63))) != 0).ToList();
            int pick = allowed[rng.Next(allowed.Count)];
            Assert.True(checkedOften.TryAdvance(pick));
            Assert.True(checkedNever.TryAdvance(pick));
            Assert.Equal(checkedNever.CanEnd, checkedOften.CanEnd);
            Assert.Equal(checkedNever.IsComplete, checkedOften.IsComplete);
            text.Append(Encoding.UTF8.GetString(vocab.GetBytes(pick)));
        }

        var a = new ulong[vocab.MaskWords];
        var b = new ulong[vocab.MaskWords];
        checkedOften.FillMask(a);
        checkedNever.FillMask(b);
        Assert.Equal(b, a);
        Assert.True(text.Length > 0);
    }
}
