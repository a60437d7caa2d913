using System.Security.Cryptography;

namespace Capa.Storage;

/// <summary>
/// Ids of stored objects: a prefix and 48 lowercase hex digits from a cryptographic random source (192 bits), so that
/// knowing one id tells nothing about another.
/// </summary>
public static class StoreIds
{
    /// <summary>A response id, <c>resp_...</c>.</summary>
    public static string NewResponseId() => New("resp_");

    /// <summary>A message item id, <c>msg_...</c>.</summary>
    public static string NewMessageId() => New("msg_");

    /// <summary>A function call item id, <c>fc_...</c>.</summary>
    public static string NewFunctionCallId() => New("fc_");

    /// <summary>A function call output item id, <c>fco_...</c>.</summary>
    public static string NewFunctionCallOutputId() => New("fco_");

    /// <summary>A reasoning item id, <c>rs_...</c>.</summary>
    public static string NewReasoningId() => New("rs_");

    /// <summary>A conversation id, <c>conv_...</c>.</summary>
    public static string NewConversationId() => New("conv_");

    /// <summary>A function call's <c>call_id</c>, <c>call_...</c>.</summary>
    public static string NewCallId() => New("call_");

    /// <summary>A prefix followed by 48 random hex digits.</summary>
    public static string New(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        Span<byte> random = stackalloc byte[24];
        RandomNumberGenerator.Fill(random);
        return prefix + Convert.ToHexStringLower(random);
    }
}
