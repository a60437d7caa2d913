namespace Capa.Protocol;

/// <summary>Unwinds validation at the first problem; caught by <see cref="ChatRequestReader"/>, never escapes it.</summary>
internal sealed class RequestRejectedException(ApiError error) : Exception(error.Message)
{
    public ApiError Error { get; } = error;
}
