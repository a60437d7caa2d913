namespace Capa.Protocol;

/// <summary>The wire form of an error (<c>ErrorResponse</c>): <c>{"error":{...}}</c>.</summary>
public sealed class ErrorResponse
{
    /// <summary>The error.</summary>
    public required ErrorBody Error { get; init; }
}

/// <summary>The <c>error</c> object (<c>Error</c>): all four members are always written.</summary>
public sealed class ErrorBody
{
    /// <summary>Human-readable message.</summary>
    public required string Message { get; init; }

    /// <summary>Error class, e.g. <c>invalid_request_error</c>, <c>server_error</c>.</summary>
    public required string Type { get; init; }

    /// <summary>The offending parameter (dotted path) or null.</summary>
    public string? Param { get; init; }

    /// <summary>Machine-readable code or null.</summary>
    public string? Code { get; init; }
}
