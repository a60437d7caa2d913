namespace Capa.Constraints.Vocabulary;

/// <summary>
/// The byte trie of a vocabulary in flat arrays: node 0 is the root; a node's children are the range
/// <c>[ChildStart[n], ChildStart[n + 1])</c> of <see cref="ChildByte"/>/<see cref="ChildNode"/>, sorted by
/// byte; the ids of tokens ending at a node are <c>[TokenStart[n], TokenStart[n + 1])</c> of <see cref="TokenIds"/>.
/// Special tokens (no bytes) and end-of-sequence ids are left out.
/// </summary>
internal sealed class TokenTrie
{
    public TokenTrie(byte[][] tokens, bool[] isEos)
    {
        var children = new List<SortedDictionary<byte, int>> { new() };
        var ending = new List<List<int>?> { null };
        for (int id = 0; id < tokens.Length; id++)
        {
            byte[] t = tokens[id];
            if (t.Length == 0 || isEos[id])
            {
                continue;
            }

            int node = 0;
            foreach (byte b in t)
            {
                if (!children[node].TryGetValue(b, out int next))
                {
                    next = children.Count;
                    children.Add([]);
                    ending.Add(null);
                    children[node][b] = next;
                }

                node = next;
            }

            (ending[node] ??= []).Add(id);
        }

        int n = children.Count;
        ChildStart = new int[n + 1];
        TokenStart = new int[n + 1];
        var childByte = new List<byte>();
        var childNode = new List<int>();
        var tokenIds = new List<int>();
        for (int i = 0; i < n; i++)
        {
            ChildStart[i] = childByte.Count;
            foreach (KeyValuePair<byte, int> kv in children[i])
            {
                childByte.Add(kv.Key);
                childNode.Add(kv.Value);
            }

            TokenStart[i] = tokenIds.Count;
            if (ending[i] is { } ids)
            {
                tokenIds.AddRange(ids);
            }
        }

        ChildStart[n] = childByte.Count;
        TokenStart[n] = tokenIds.Count;
        ChildByte = [.. childByte];
        ChildNode = [.. childNode];
        TokenIds = [.. tokenIds];
    }

    public int[] ChildStart { get; }

    public byte[] ChildByte { get; }

    public int[] ChildNode { get; }

    public int[] TokenStart { get; }

    public int[] TokenIds { get; }

    public int NodeCount => ChildStart.Length - 1;
}
