using System.Text;

namespace Capa.Protocol;

/// <summary>One dispatched server-sent event.</summary>
/// <param name="EventType">The <c>event:</c> field, or null when absent (a plain message).</param>
/// <param name="Data">The <c>data:</c> lines, joined with <c>\n</c>, as UTF-8.</param>
/// <param name="Id">The last <c>id:</c> seen in the stream, or null.</param>
public readonly record struct SseEvent(string? EventType, ReadOnlyMemory<byte> Data, string? Id)
{
    /// <summary>True for OpenAI's terminator, <c>data: [DONE]</c>.</summary>
    public bool IsDone => Data.Span.SequenceEqual("[DONE]"u8);

    /// <summary>The data decoded as text.</summary>
    public string DataText => Encoding.UTF8.GetString(Data.Span);
}
