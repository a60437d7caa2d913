using System.Text.Json.Serialization;
using Capa.Storage.Files.S3;

namespace Capa.Server.Configuration;

/// <summary>The <c>files</c> object of the config file: where uploaded files' bytes are kept.</summary>
/// <example><c>{ "s3": { "endpoint": "https://s3.eu-west-1.amazonaws.com", "bucket": "my-capa", "region": "eu-west-1", "prefix": "capa/files/" } }</c></example>
public sealed record FilesConfig
{
    /// <summary>An S3-compatible bucket instead of the data directory's <c>files/</c> folder (several servers share it).</summary>
    [JsonPropertyName("s3")]
    public S3Config? S3 { get; init; }

    internal void Validate(string source) => S3?.Validate(source);
}

/// <summary>
/// The <c>files.s3</c> object: an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Ceph, ...). Credentials come from
/// the environment only (never the file): <c>AWS_ACCESS_KEY_ID</c>, <c>AWS_SECRET_ACCESS_KEY</c> and
/// <c>AWS_SESSION_TOKEN</c> unless other variable names are given.
/// </summary>
public sealed record S3Config
{
    /// <summary>The service's base URL.</summary>
    [JsonPropertyName("endpoint")]
    public string? Endpoint { get; init; }

    [JsonPropertyName("bucket")]
    public string? Bucket { get; init; }

    /// <summary>The signing region (default <c>us-east-1</c>).</summary>
    [JsonPropertyName("region")]
    public string? Region { get; init; }

    /// <summary>Key prefix of the content objects (default <c>capa/files/</c>).</summary>
    [JsonPropertyName("prefix")]
    public string? Prefix { get; init; }

    /// <summary>Bucket in the path (default true) rather than in the host name.</summary>
    [JsonPropertyName("path_style")]
    public bool? PathStyle { get; init; }

    [JsonPropertyName("access_key_id_env")]
    public string? AccessKeyIdEnv { get; init; }

    [JsonPropertyName("secret_access_key_env")]
    public string? SecretAccessKeyEnv { get; init; }

    [JsonPropertyName("session_token_env")]
    public string? SessionTokenEnv { get; init; }

    /// <summary>Seconds each request to the bucket may take (default 600).</summary>
    [JsonPropertyName("timeout")]
    public double? Timeout { get; init; }

    internal void Validate(string source)
    {
        if (!Uri.TryCreate(Endpoint, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(uri.Query))
        {
            throw new CapaConfigException($"'{source}': files.s3.endpoint must be an absolute http(s) URL.");
        }

        // S3's bucket naming rules: 3-63 characters of lower-case letters, digits, dots and hyphens.
        if (Bucket is null || Bucket.Length is < 3 or > 63 || !Bucket.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '-'))
        {
            throw new CapaConfigException($"'{source}': files.s3.bucket must be a bucket name (3-63 lower-case letters, digits, dots, hyphens).");
        }

        if (Prefix is not null && (Prefix.StartsWith('/') || Prefix.Contains("..", StringComparison.Ordinal)))
        {
            throw new CapaConfigException($"'{source}': files.s3.prefix must be a relative key prefix such as capa/files/.");
        }

        if (Timeout is <= 0)
        {
            throw new CapaConfigException($"'{source}': files.s3.timeout must be a positive number of seconds.");
        }
    }

    /// <summary>The options to reach the bucket, with credentials read from the environment.</summary>
    /// <exception cref="CapaConfigException">A credential variable is not set.</exception>
    internal S3Options Resolve(Func<string, string?> environment)
    {
        string Required(string name) => environment(name) is { Length: > 0 } value ? value
            : throw new CapaConfigException($"files.s3 needs the environment variable {name} (the bucket's credentials are never read from the config file).");

        string prefix = Prefix ?? "capa/files/";
        return new S3Options
        {
            Endpoint = new Uri(Endpoint!),
            Bucket = Bucket!,
            Region = Region ?? "us-east-1",
            Prefix = prefix.Length == 0 || prefix.EndsWith('/') ? prefix : prefix + "/",
            PathStyle = PathStyle ?? true,
            AccessKeyId = Required(AccessKeyIdEnv ?? "AWS_ACCESS_KEY_ID"),
            SecretAccessKey = Required(SecretAccessKeyEnv ?? "AWS_SECRET_ACCESS_KEY"),
            SessionToken = environment(SessionTokenEnv ?? "AWS_SESSION_TOKEN") is { Length: > 0 } token ? token : null,
            Timeout = TimeSpan.FromSeconds(Timeout ?? 600),
        };
    }
}
