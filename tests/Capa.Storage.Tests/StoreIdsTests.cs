using System.Text.RegularExpressions;

namespace Capa.Storage.Tests;

public sealed class StoreIdsTests
{
    [Fact]
    public void Ids_have_their_prefix_and_48_random_hex_digits()
    {
        Assert.Matches(new Regex("^resp_[0-9a-f]{48}$"), StoreIds.NewResponseId());
        Assert.Matches(new Regex("^msg_[0-9a-f]{48}$"), StoreIds.NewMessageId());
        Assert.Matches(new Regex("^fc_[0-9a-f]{48}$"), StoreIds.NewFunctionCallId());
        Assert.Matches(new Regex("^conv_[0-9a-f]{48}$"), StoreIds.NewConversationId());
        var many = Enumerable.Range(0, 10_000).Select(_ => StoreIds.NewResponseId()).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(10_000, many.Count);
    }
}
